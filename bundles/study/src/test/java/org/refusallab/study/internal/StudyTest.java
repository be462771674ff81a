package org.refusallab.study.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.api.study.RefusalDirection;
import org.refusallab.api.study.Study;
import org.refusallab.testkit.lab.ReferenceModel;
import org.refusallab.testkit.lab.TestContext;

class StudyTest {

    @TempDir
    Path config;

    private static Study open(TestContext ctx) {
        return new StudyComponent(new InProcessSweep(ReferenceModel.tiny())).open(ctx);
    }

    @Test
    void studyParametersAreTypedWithTheirDeclaredDefaultsAndBadValuesNameAnalysisKeyAndValue() {
        var ctx = TestContext.of("a", ReferenceModel.tiny(), config, Map.of("study.maxBatch", "7"));
        Study a = open(ctx);
        assertEquals(7, a.parameters().maxBatch());
        assertEquals("I", a.parameters().refusalToken());
        assertEquals(0.1, a.parameters().direction_klBound());
        ctx.parameters().put("study.maxBatch", "many");
        var e = assertThrows(IllegalArgumentException.class, () -> open(ctx));
        assertTrue(e.getMessage().contains("analysis a") && e.getMessage().contains("study.maxBatch") && e.getMessage().contains("'many'"), e.getMessage());
    }

    @Test
    void aConfiguredDirectionIsTheMeanDifferenceAndBadConfigurationsAreClearErrors() {
        var ctx = TestContext.of("a", ReferenceModel.tiny(), config, Map.of("study.direction.layer", "2", "study.direction.position", "-1",
                "study.direction.save", "false"));
        RefusalDirection d = open(ctx).direction();
        assertEquals(2, d.layer());
        assertSame(d, open(ctx.forAnalysis("b", ctx.parameters())).direction(), "computed once per run");

        var bad = TestContext.of("a", ReferenceModel.tiny(), config, Map.of("study.direction.layer", "9", "study.direction.position", "-1"));
        var e = assertThrows(IllegalArgumentException.class, () -> open(bad).direction());
        assertTrue(e.getMessage().contains("study.direction.layer/position 9/-1"), e.getMessage());
        // the failure is kept: the next analysis fails at once, naming the cause
        var again = assertThrows(IllegalStateException.class, () -> open(bad.forAnalysis("b", bad.parameters())).direction());
        assertTrue(again.getMessage().contains("9/-1"), again.getMessage());

        var missing = TestContext.of("a", ReferenceModel.tiny(), config, Map.of("study.direction.file", "nowhere.npy"));
        assertThrows(IllegalArgumentException.class, () -> open(missing).direction());
        var oneSided = TestContext.of("a", ReferenceModel.tiny(), config, Map.of("study.direction.harmful", "h.jsonl"));
        assertThrows(IllegalArgumentException.class, () -> open(oneSided).direction());
    }

    @Test
    void aDirectionOfTheWrongWidthIsRefused() throws Exception {
        java.nio.file.Files.writeString(config.resolve("short.json"), "[1, 2, 3]");
        var ctx = TestContext.of("a", ReferenceModel.tiny(), config, Map.of("study.direction.file", "short.json"));
        var e = assertThrows(IllegalArgumentException.class, () -> open(ctx).direction());
        assertTrue(e.getMessage().contains("d_model is 64"), e.getMessage());
    }
}
