package org.refusallab.toymodel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class GenerateDataTest {

    private static final List<String> DATASETS = List.of(ToyDatasets.PAIRS, ToyDatasets.SEED_PAIRS, ToyDatasets.HARMFUL_TRAIN,
            ToyDatasets.HARMLESS_TRAIN, ToyDatasets.HARMFUL_EVAL, ToyDatasets.HARMLESS_EVAL, ToyDatasets.NOTICE);
    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json");

    private static void generate(Path out) {
        int code = new CommandLine(new GenerateData()).execute(
                "--datasets", out.resolve("datasets").toString(), "--model-dir", out.resolve("model").toString());
        assertEquals(0, code);
    }

    @Test
    void writesJsonlTheStudyReads(@TempDir Path out) throws IOException {
        generate(out);
        ToyCorpus corpus = ToyCorpus.generate(ToyCorpus.DEFAULT_SEED);
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> pairs = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("datasets").resolve(ToyDatasets.PAIRS), StandardCharsets.UTF_8)) pairs.add(json.readTree(line));
        assertEquals(corpus.heldOutPairs().size(), pairs.size());
        for (int i = 0; i < pairs.size(); i++) {
            assertEquals(corpus.heldOutPairs().get(i).harmful(), pairs.get(i).get("harmful").asText());
            assertEquals(corpus.heldOutPairs().get(i).harmless(), pairs.get(i).get("harmless").asText());
        }
        List<String> harmfulEval = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("datasets").resolve(ToyDatasets.HARMFUL_EVAL), StandardCharsets.UTF_8)) {
            harmfulEval.add(json.readTree(line).get("instruction").asText());
        }
        assertEquals(corpus.harmfulEval(), harmfulEval);
        assertEquals(3, Files.readAllLines(out.resolve("datasets").resolve(ToyDatasets.SEED_PAIRS)).size());
        assertTrue(Files.readString(out.resolve("datasets").resolve(ToyDatasets.NOTICE)).contains("written by the refusal-lab project"));
    }

    /** The committed files must be what the generator writes now: regenerate them after changing the corpus. */
    @Test
    void committedFilesAreUpToDate(@TempDir Path out) throws IOException {
        String root = System.getProperty("refusallab.repo.root");
        assertTrue(root != null, "system property refusallab.repo.root is set by the build (pom.xml)");
        generate(out);
        for (String name : DATASETS) {
            assertArrayEquals(Files.readAllBytes(out.resolve("datasets").resolve(name)),
                    Files.readAllBytes(Path.of(root, "runtime-config", "datasets", name)), name + " is stale: run GenerateData");
        }
        for (String name : TOKENIZER_FILES) {
            assertArrayEquals(Files.readAllBytes(out.resolve("model").resolve(name)),
                    Files.readAllBytes(Path.of(root, "models", "toy-gemma", name)), name + " is stale: run GenerateData");
        }
    }
}
