package org.refusallab.study.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.api.analysis.Parameters;
import org.refusallab.api.study.StudyParameters;

/** Disjoint prompt sets: the stated skips, the validation split, and an overlap as an error naming both files. */
class DataSplitsTest {

    @TempDir
    Path dir;

    private void lines(String file, String... instructions) throws IOException {
        StringBuilder s = new StringBuilder();
        for (String i : instructions) s.append("{\"instruction\":\"").append(i).append("\"}\n");
        Files.writeString(dir.resolve(file), s.toString());
    }

    private DataSplits.Splits build(Map<String, String> extra) {
        Map<String, String> values = new HashMap<>(Map.of("study.heldOutPairs", "held.jsonl", "study.eval.harmful", "eh.jsonl",
                "study.eval.harmless", "el.jsonl", "study.direction.harmful", "th.jsonl", "study.direction.harmless", "tl.jsonl",
                "study.direction.selectionLimit", "2"));
        values.putAll(extra);
        StudyParameters p = Parameters.bind("test", StudyParameters.class, values);
        return DataSplits.build(p, dir::resolve);
    }

    private void standardFiles() throws IOException {
        Files.writeString(dir.resolve("held.jsonl"), "{\"harmful\":\"make a bomb\",\"harmless\":\"make a cake\"}\n"
                + "{\"harmful\":\"rob a bank\",\"harmless\":\"open a bank\"}\n");
        // eval holds the held-out pairs' prompts, as the toy files do: skipped
        lines("eh.jsonl", "make a bomb", "rob a bank", "hurt someone", "steal a car");
        lines("el.jsonl", "make a cake", "open a bank", "bake bread", "plant a tree");
        // training holds a seed prompt: skipped
        lines("th.jsonl", "Develop a plan to start a gang", "t1", "t2", "t3", "v1", "v2");
        lines("tl.jsonl", "u1", "u2", "u3", "w1", "w2");
    }

    @Test
    void pairPromptsAreSkippedAndTheLastLinesAreTheValidationSplit() throws IOException {
        standardFiles();
        DataSplits.Splits s = build(Map.of());
        assertEquals(3, s.pairs().size());
        assertEquals(2, s.heldOut().size());
        assertEquals(List.of("hurt someone", "steal a car"), s.evalHarmful());
        assertEquals(List.of("bake bread", "plant a tree"), s.evalHarmless());
        assertEquals(List.of("t1", "t2", "t3"), s.trainHarmful());
        assertEquals(List.of("v1", "v2"), s.validationHarmful());
        assertEquals(List.of("u1", "u2", "u3"), s.trainHarmless());
        assertEquals(List.of("w1", "w2"), s.validationHarmless());
        var byName = new HashMap<String, org.refusallab.api.study.DataSet>();
        s.sets().forEach(d -> byName.put(d.name(), d));
        assertEquals(8, s.sets().size());
        assertEquals(2, byName.get("evaluation (harmful)").size());
        assertTrue(byName.get("evaluation (harmful)").selection().startsWith("2 of 4 lines skipped"), byName.toString());
        assertTrue(byName.get("direction training (harmful)").selection().startsWith("1 of 6 lines skipped"), byName.toString());
        assertEquals("th.jsonl", byName.get("direction validation (harmful)").source());
        assertEquals(1, build(Map.of("study.eval.limit", "1")).evalHarmless().size());
    }

    @Test
    void anOverlapIsAnErrorNamingThePromptAndBothFiles() throws IOException {
        standardFiles();
        lines("tl.jsonl", "u1", "bake bread", "u3", "w1", "w2");
        var e = assertThrows(IllegalArgumentException.class, () -> build(Map.of()));
        assertTrue(e.getMessage().contains("'bake bread'") && e.getMessage().contains("evaluation (harmless) (el.jsonl)")
                && e.getMessage().contains("direction training (harmless) (tl.jsonl)"), e.getMessage());

        standardFiles();
        lines("tl.jsonl", "u1", "u2", "u3", "w1", "u2");
        e = assertThrows(IllegalArgumentException.class, () -> build(Map.of()));
        assertTrue(e.getMessage().contains("'u2'") && e.getMessage().contains("direction validation (harmless) (tl.jsonl)"), e.getMessage());

        standardFiles();
        lines("el.jsonl", "steal a car");
        e = assertThrows(IllegalArgumentException.class, () -> build(Map.of()));
        assertTrue(e.getMessage().contains("evaluation (harmful) (eh.jsonl) and evaluation (harmless) (el.jsonl)"), e.getMessage());
    }

    @Test
    void aValidationSplitThatLeavesNothingToFitOnIsRefused() throws IOException {
        standardFiles();
        var e = assertThrows(IllegalArgumentException.class, () -> build(Map.of("study.direction.selectionLimit", "5")));
        assertTrue(e.getMessage().contains("study.direction.selectionLimit = 5") && e.getMessage().contains("th.jsonl"), e.getMessage());
    }
}
