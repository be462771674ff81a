package org.refusallab.study;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.study.testing.ReferenceModel;
import org.refusallab.study.testing.TestContext;

class StudyTest {

    @TempDir
    Path config;

    @Test
    void parametersResolveAnalysisKeysThenPlainKeysThenStudyDefaults() {
        var ctx = TestContext.of(ReferenceModel.tiny(), config, Map.of("analyses.a.k", "1", "k", "2", "j", "3", "study.maxBatch", "7"));
        Study a = Study.of(ctx, "a"), b = Study.of(ctx, "b");
        assertEquals("1", a.param("k", "x"));
        assertEquals("2", b.param("k", "x"));
        assertEquals("x", a.param("missing", "x"));
        assertEquals(7, a.maxBatch());
        assertEquals("I", a.studyParam("refusalToken"));
        assertThrows(IllegalArgumentException.class, () -> a.studyParam("nope"));
        ctx.parameters().put("study.maxBatch", "many");
        var e = assertThrows(IllegalArgumentException.class, a::maxBatch);
        assertTrue(e.getMessage().contains("study.maxBatch"), e.getMessage());
    }

    @Test
    void aConfiguredDirectionIsTheMeanDifferenceAndBadConfigurationsAreClearErrors() {
        var ctx = TestContext.of(ReferenceModel.tiny(), config, Map.of("study.direction.layer", "2", "study.direction.position", "-1",
                "study.direction.save", "false"));
        RefusalDirection d = Study.of(ctx, "a").direction();
        assertEquals(2, d.layer());
        assertSame(d, Study.of(ctx, "b").direction(), "computed once per run");

        var bad = TestContext.of(ReferenceModel.tiny(), config, Map.of("study.direction.layer", "9", "study.direction.position", "-1"));
        var e = assertThrows(IllegalArgumentException.class, () -> Study.of(bad, "a").direction());
        assertTrue(e.getMessage().contains("study.direction.layer/position 9/-1"), e.getMessage());
        // the failure is kept: the next analysis fails at once, naming the cause
        var again = assertThrows(IllegalStateException.class, () -> Study.of(bad, "b").direction());
        assertTrue(again.getMessage().contains("9/-1"), again.getMessage());

        var missing = TestContext.of(ReferenceModel.tiny(), config, Map.of("study.direction.file", "nowhere.npy"));
        assertThrows(IllegalArgumentException.class, () -> Study.of(missing, "a").direction());
        var oneSided = TestContext.of(ReferenceModel.tiny(), config, Map.of("study.direction.harmful", "h.jsonl"));
        assertThrows(IllegalArgumentException.class, () -> Study.of(oneSided, "a").direction());
    }

    @Test
    void aDirectionOfTheWrongWidthIsRefused() throws Exception {
        java.nio.file.Files.writeString(config.resolve("short.json"), "[1, 2, 3]");
        var ctx = TestContext.of(ReferenceModel.tiny(), config, Map.of("study.direction.file", "short.json"));
        var e = assertThrows(IllegalArgumentException.class, () -> Study.of(ctx, "a").direction());
        assertTrue(e.getMessage().contains("d_model is 64"), e.getMessage());
    }
}
