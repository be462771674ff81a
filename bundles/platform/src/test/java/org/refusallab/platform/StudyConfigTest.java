package org.refusallab.platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StudyConfigTest {

    @TempDir
    Path dir;

    @Test
    void parametersAreFlattenedToStrings() throws Exception {
        Path f = dir.resolve("study.json");
        Files.writeString(f, """
                {"name": "s", "parameters": {"layer": 10, "alpha": 0.5, "batch": {"size": 8}, "flag": true, "ids": ["a", "b"]},
                 "datasets": {"harmful": "prompts/h.txt"},
                 "analyses": {"x": {"enabled": false, "parameters": {"k": "v"}}}}""");
        StudyConfig s = StudyConfig.load(f);
        assertEquals(Map.of("layer", "10", "alpha", "0.5", "batch.size", "8", "flag", "true", "ids", "a|b"), s.parameters());
        assertEquals(Map.of("harmful", "prompts/h.txt"), s.datasets());
        assertFalse(s.settings("x").enabled());
        assertEquals(Map.of("k", "v"), s.settings("x").parameters());
        assertTrue(s.settings("absent").enabled());
    }

    @Test
    void aMissingFileIsAnEmptyStudy() {
        assertEquals(Map.of(), StudyConfig.load(dir.resolve("none.json")).parameters());
    }

    @Test
    void wrongTypesNameTheFileAndKey() throws Exception {
        Path f = dir.resolve("study.json");
        Files.writeString(f, "{\"analyses\": {\"x\": {\"enabled\": \"yes\"}}}");
        var e = assertThrows(IllegalArgumentException.class, () -> StudyConfig.load(f));
        assertEquals(f + ": analyses.x.enabled must be true or false, got \"yes\"", e.getMessage());
        Files.writeString(f, "[1]");
        assertEquals(f + ": expected a JSON object at the top", assertThrows(IllegalArgumentException.class, () -> StudyConfig.load(f)).getMessage());
    }
}
