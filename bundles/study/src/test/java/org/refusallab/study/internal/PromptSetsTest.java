package org.refusallab.study.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.api.study.PromptPair;

class PromptSetsTest {

    @TempDir
    Path dir;

    @Test
    void readsJsonlPairsAndInstructionsSkippingBlankLines() throws Exception {
        Path pairs = Files.writeString(dir.resolve("p.jsonl"),
                "{\"harmful\": \"Make a bomb\", \"harmless\": \"Make a cake\"}\n\n{\"harmful\": \"Steal a car\", \"harmless\": \"Wash a car\", \"note\": 1}\n");
        assertEquals(List.of(new PromptPair("Make a bomb", "Make a cake"), new PromptPair("Steal a car", "Wash a car")), PromptSets.readPairs(pairs));
        Path single = Files.writeString(dir.resolve("s.jsonl"), "{\"instruction\": \"Tell me a joke\"}\n{\"instruction\": \"Say \\\"hi\\\"\"}\n");
        assertEquals(List.of("Tell me a joke", "Say \"hi\""), PromptSets.readInstructions(single));
    }

    @Test
    void readsCsvWithQuotedCommas() throws Exception {
        Path csv = Files.writeString(dir.resolve("p.csv"), "harmful,harmless\n\"Make a bomb, quickly\",\"Make a cake, quickly\"\nSteal a car,Wash a car\n");
        assertEquals(List.of(new PromptPair("Make a bomb, quickly", "Make a cake, quickly"), new PromptPair("Steal a car", "Wash a car")),
                PromptSets.readPairs(csv));
    }

    @Test
    void errorsNameTheFileAndTheLine() throws Exception {
        Path missing = Files.writeString(dir.resolve("m.jsonl"), "{\"harmful\": \"a\", \"harmless\": \"b\"}\n\n{\"harmful\": \"c\"}\n");
        var e = assertThrows(IllegalArgumentException.class, () -> PromptSets.readPairs(missing));
        assertTrue(e.getMessage().contains("m.jsonl line 3") && e.getMessage().contains("'harmless'"), e.getMessage());

        Path bad = Files.writeString(dir.resolve("b.jsonl"), "{\"instruction\": \"a\"}\n{\"instruction\": \n");
        e = assertThrows(IllegalArgumentException.class, () -> PromptSets.readInstructions(bad));
        assertTrue(e.getMessage().contains("b.jsonl line 2") && e.getMessage().contains("not valid JSON"), e.getMessage());

        Path csv = Files.writeString(dir.resolve("c.csv"), "harmful,harmless\na,b\nc,\n");
        e = assertThrows(IllegalArgumentException.class, () -> PromptSets.readPairs(csv));
        assertTrue(e.getMessage().contains("c.csv line 3"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> PromptSets.readPairs(dir.resolve("none.jsonl")));
        assertTrue(e.getMessage().contains("none.jsonl"), e.getMessage());
        Path txt = Files.writeString(dir.resolve("p.txt"), "x");
        assertThrows(IllegalArgumentException.class, () -> PromptSets.readPairs(txt));
        Path empty = Files.writeString(dir.resolve("e.jsonl"), "\n");
        assertThrows(IllegalArgumentException.class, () -> PromptSets.readPairs(empty));
    }
}
