package org.refusallab.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.refusallab.checkpoint.TestCheckpoints.flat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class CheckpointRoundTripTest {

    @TempDir
    Path tmp;

    @Test
    void float32SingleFileRoundTripsExactly() throws IOException {
        GemmaConfig config = TestCheckpoints.tinyConfig().withGelu(GemmaConfig.Gelu.EXACT);
        Map<String, INDArray> weights = TestCheckpoints.randomWeights(config, 1);
        CheckpointWriter.write(tmp, config, weights, StoredDtype.F32, 0);

        assertEquals(Set.of("config.json", "generation_config.json", "model.safetensors"), fileNames(tmp));
        List<String> reported = new ArrayList<>();
        long[] lastBytes = new long[2];
        LoadedCheckpoint loaded = Checkpoint.load(tmp, null, (tensor, done, total, bytesDone, bytesTotal) -> {
            reported.add(tensor);
            assertEquals(reported.size(), done);
            assertEquals(weights.size(), total);
            lastBytes[0] = bytesDone;
            lastBytes[1] = bytesTotal;
        });
        assertEquals(new ArrayList<>(GemmaTensors.expectedShapes(config).keySet()), reported);
        assertEquals(4 * config.parameterCount(), lastBytes[0]);
        assertEquals(4 * config.parameterCount(), lastBytes[1]);
        assertEquals(config, loaded.config());
        assertEquals("F32", loaded.storedDtype());
        assertEquals(weights.keySet(), loaded.weights().keySet());
        for (String name : weights.keySet()) {
            assertArrayEquals(flat(weights.get(name)), flat(loaded.weight(name)), 0f, name);
            assertArrayEquals(weights.get(name).shape(), loaded.weight(name).shape(), name);
        }
    }

    @Test
    void safetensorsHeaderIsLaidOutAsHuggingFaceDoes() throws IOException {
        GemmaConfig config = TestCheckpoints.tinyConfig();
        CheckpointWriter.write(tmp, config, TestCheckpoints.randomWeights(config, 2), StoredDtype.BF16, 0);
        Path file = tmp.resolve("model.safetensors");
        assertEquals(0, TestCheckpoints.headerLength(file) % 8);
        ObjectNode header = TestCheckpoints.readHeader(file);
        List<String> names = new ArrayList<>();
        header.fieldNames().forEachRemaining(names::add);
        assertEquals("__metadata__", names.get(0));
        assertEquals("pt", header.get("__metadata__").get("format").asText());
        List<String> tensors = names.subList(1, names.size());
        assertEquals(new ArrayList<>(new TreeSet<>(tensors)), tensors);
        long expectedBegin = 0;
        for (String t : tensors) {
            JsonNode entry = header.get(t);
            assertEquals("BF16", entry.get("dtype").asText());
            assertEquals(expectedBegin, entry.get("data_offsets").get(0).asLong(), t);
            expectedBegin = entry.get("data_offsets").get(1).asLong();
        }
        assertEquals(Files.size(file), 8 + TestCheckpoints.headerLength(file) + expectedBegin);
        JsonNode cfg = TestCheckpoints.readJson(tmp.resolve("config.json"));
        assertEquals("GemmaForCausalLM", cfg.get("architectures").get(0).asText());
        assertEquals("bfloat16", cfg.get("torch_dtype").asText());
        assertEquals("gelu_pytorch_tanh", cfg.get("hidden_activation").asText());
        assertTrue(cfg.get("tie_word_embeddings").asBoolean());
        assertEquals(2, TestCheckpoints.readJson(tmp.resolve("generation_config.json")).get("bos_token_id").asInt());
    }

    /** Writing the transformers-saved fixture back reproduces its model.safetensors byte for byte. */
    @Test
    void rewritingTheTransformersFixtureGivesIdenticalBytes() throws IOException {
        LoadedCheckpoint fixture = Checkpoint.load(TinyGemmaFixture.checkpointDir());
        CheckpointWriter.write(tmp, fixture.config(), fixture.weights(), StoredDtype.F32, 0);
        assertArrayEquals(Files.readAllBytes(TinyGemmaFixture.checkpointDir().resolve("model.safetensors")),
                Files.readAllBytes(tmp.resolve("model.safetensors")));
    }

    @Test
    void bf16ShardedRoundTripEqualsIndependentRounding() throws IOException {
        GemmaConfig config = TestCheckpoints.tinyConfig();
        Map<String, INDArray> weights = TestCheckpoints.randomWeights(config, 3);
        // exact ties between two bf16 neighbours (round to the even one), and values just off them
        float[] special = {1f + 0x1p-8f, 1f + 3 * 0x1p-8f, -(1f + 0x1p-8f), 1f + 0x1p-8f + 0x1p-20f,
                3.0e38f, 1e-40f, -0f, 0f};
        INDArray norm = weights.get(GemmaTensors.FINAL_NORM);
        for (int i = 0; i < special.length; i++) {
            norm.putScalar(i, special[i]);
        }
        long maxShard = 4000;
        CheckpointWriter.write(tmp, config, weights, StoredDtype.BF16, maxShard);

        JsonNode index = TestCheckpoints.readJson(tmp.resolve("model.safetensors.index.json"));
        Set<String> shardFiles = new TreeSet<>();
        index.get("weight_map").fields().forEachRemaining(e -> shardFiles.add(e.getValue().asText()));
        assertTrue(shardFiles.size() > 2, "expected several shards, got " + shardFiles);
        int n = shardFiles.size();
        Set<String> expectedNames = new TreeSet<>();
        for (int k = 1; k <= n; k++) {
            expectedNames.add(String.format("model-%05d-of-%05d.safetensors", k, n));
        }
        assertEquals(expectedNames, shardFiles);
        assertFalse(Files.exists(tmp.resolve("model.safetensors")));
        long totalBytes = 0;
        for (String shard : shardFiles) {
            long dataBytes = Files.size(tmp.resolve(shard)) - 8 - TestCheckpoints.headerLength(tmp.resolve(shard));
            totalBytes += dataBytes;
            // a shard exceeds the limit only when it holds one tensor that alone does
            if (dataBytes > maxShard) {
                assertEquals(1, TestCheckpoints.readHeader(tmp.resolve(shard)).size() - 1, shard);
            }
        }
        long params = config.parameterCount();
        assertEquals(2 * params, totalBytes);
        assertEquals(totalBytes, index.get("metadata").get("total_size").asLong());
        assertEquals(weights.keySet(), fieldNames(index.get("weight_map")));

        LoadedCheckpoint loaded = Checkpoint.load(tmp);
        assertEquals("BF16", loaded.storedDtype());
        assertEquals(config.withTorchDtype("bfloat16"), loaded.config());
        for (String name : weights.keySet()) {
            float[] original = flat(weights.get(name));
            float[] read = flat(loaded.weight(name));
            for (int i = 0; i < original.length; i++) {
                assertEquals(Float.floatToIntBits(nearestBf16(original[i])), Float.floatToIntBits(read[i]),
                        name + "[" + i + "] = " + original[i]);
            }
        }
        // the same checkpoint through a relative path (shard paths resolve against the directory)
        Path relative = Path.of("").toAbsolutePath().relativize(tmp.toAbsolutePath());
        assertArrayEquals(flat(loaded.weight(GemmaTensors.EMBED)),
                flat(Checkpoint.load(relative).weight(GemmaTensors.EMBED)), 0f);
        float[] normRead = flat(loaded.weight(GemmaTensors.FINAL_NORM));
        assertEquals(1f, normRead[0]);
        assertEquals(1f + 0x1p-6f, normRead[1]);
        assertEquals(-1f, normRead[2]);
        assertEquals(1f + 0x1p-7f, normRead[3]);
    }

    /**
     * The bf16 value nearest to x, ties to an even last mantissa bit, found by comparing the two bf16 candidates
     * around x in double precision (not by the bit trick the writer uses).
     */
    private static float nearestBf16(float x) {
        int bits = Float.floatToIntBits(x);
        float down = Float.intBitsToFloat(bits & 0xFFFF0000);
        float up = Float.intBitsToFloat((bits & 0xFFFF0000) + 0x10000);
        double dDown = Math.abs((double) x - down);
        double dUp = Math.abs((double) up - x);
        if (dDown < dUp) {
            return down;
        }
        if (dUp < dDown) {
            return up;
        }
        return ((Float.floatToIntBits(down) >>> 16) & 1) == 0 ? down : up;
    }

    @Test
    void ropeThetaTopLevelAndUnderRopeParameters() throws IOException {
        GemmaConfig config = new GemmaConfig("gemma", 40, 16, 24, 2, 2, 1, 12, 1e-6, 20000.0, GemmaConfig.Gelu.TANH,
                "float32", 2, 1, 0, 128);
        Path topLevel = tmp.resolve("top");
        CheckpointWriter.write(topLevel, config, TestCheckpoints.randomWeights(config, 4), StoredDtype.F32, 0);
        assertEquals(20000.0, TestCheckpoints.readJson(topLevel.resolve("config.json")).get("rope_theta").asDouble());
        assertEquals(20000.0, Checkpoint.load(topLevel).config().ropeTheta());

        Path nested = tmp.resolve("nested");
        CheckpointWriter.write(nested, config, TestCheckpoints.randomWeights(config, 4), StoredDtype.F32, 0);
        TestCheckpoints.editJson(nested.resolve("config.json"), c -> {
            c.remove("rope_theta");
            c.putObject("rope_parameters").put("rope_theta", 500000.0).put("rope_type", "default");
        });
        assertEquals(500000.0, Checkpoint.load(nested).config().ropeTheta());
    }

    @Test
    void matchingLmHeadIsIgnored() throws IOException {
        GemmaConfig config = TestCheckpoints.tinyConfig();
        Map<String, INDArray> weights = new HashMap<>(TestCheckpoints.randomWeights(config, 5));
        weights.put(GemmaTensors.LM_HEAD, weights.get(GemmaTensors.EMBED).dup());
        CheckpointWriter.write(tmp, config, weights, StoredDtype.F32, 0);
        LoadedCheckpoint loaded = Checkpoint.load(tmp);
        assertFalse(loaded.weights().containsKey(GemmaTensors.LM_HEAD));
        assertEquals(GemmaTensors.expectedShapes(config).keySet(), loaded.weights().keySet());
    }

    @Test
    void writerRefusesADirectoryThatAlreadyHoldsACheckpoint() {
        GemmaConfig config = TestCheckpoints.tinyConfig();
        Map<String, INDArray> weights = TestCheckpoints.randomWeights(config, 6);
        CheckpointWriter.write(tmp, config, weights, StoredDtype.F32, 0);
        CheckpointException e = org.junit.jupiter.api.Assertions.assertThrows(CheckpointException.class,
                () -> CheckpointWriter.write(tmp, config, weights, StoredDtype.BF16, 1000));
        TestCheckpoints.assertMentions(e, tmp.toString(), "model.safetensors");
    }

    private static Set<String> fileNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new TreeSet<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }
}
