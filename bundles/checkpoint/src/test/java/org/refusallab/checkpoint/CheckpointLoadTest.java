package org.refusallab.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Loads the transformers-saved tiny Gemma and compares it with a plain byte-level reading of the same file. */
class CheckpointLoadTest {

    private static LoadedCheckpoint loaded;

    @BeforeAll
    static void load() {
        loaded = Checkpoint.load(TinyGemmaFixture.checkpointDir());
    }

    @Test
    void configMatchesTheFixture() {
        GemmaConfig c = loaded.config();
        assertEquals("gemma", c.modelType());
        assertEquals(512, c.vocabSize());
        assertEquals(64, c.hiddenSize());
        assertEquals(256, c.intermediateSize());
        assertEquals(4, c.numLayers());
        assertEquals(4, c.numHeads());
        assertEquals(1, c.numKvHeads());
        assertEquals(16, c.headDim());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta()); // from rope_parameters.rope_theta
        assertEquals("float32", c.torchDtype()); // the "dtype" field of transformers 5
        assertEquals(2, c.bosTokenId());
        assertEquals(1, c.eosTokenId());
        assertEquals(0, c.padTokenId());
        assertEquals(256, c.maxPositionEmbeddings());
        // hidden_act "gelu" without hidden_activation: the Gemma 1 rule picks tanh unless the caller overrides it
        assertEquals(GemmaConfig.Gelu.TANH, c.gelu());
        assertEquals("F32", loaded.storedDtype());
    }

    @Test
    void geluOverrideIsApplied() {
        LoadedCheckpoint exact = Checkpoint.load(TinyGemmaFixture.checkpointDir(), GemmaConfig.Gelu.EXACT);
        assertEquals(GemmaConfig.Gelu.EXACT, exact.config().gelu());
    }

    @Test
    void holdsExactlyTheExpectedTensorsWithStoredShapes() {
        Map<String, long[]> expected = GemmaTensors.expectedShapes(loaded.config());
        assertEquals(expected.keySet(), loaded.weights().keySet());
        assertEquals(2 + 4 * 9, loaded.weights().size());
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            INDArray w = loaded.weights().get(e.getKey());
            assertArrayEquals(e.getValue(), w.shape(), e.getKey());
            assertEquals(DataType.FLOAT, w.dataType(), e.getKey());
        }
        assertArrayEquals(new long[] {64, 64}, loaded.weight("model.layers.0.self_attn.q_proj.weight").shape());
        assertArrayEquals(new long[] {16, 64}, loaded.weight("model.layers.3.self_attn.k_proj.weight").shape());
        assertArrayEquals(new long[] {64, 256}, loaded.weight("model.layers.2.mlp.down_proj.weight").shape());
    }

    /** Every element of every tensor equals what a direct reading of the file's bytes gives. */
    @Test
    void valuesEqualAnIndependentByteLevelReading() throws Exception {
        Path file = TinyGemmaFixture.checkpointDir().resolve("model.safetensors");
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) bytes.getLong(0);
        JsonNode header = new ObjectMapper().readTree(new String(bytes.array(), 8, headerLength, StandardCharsets.UTF_8));
        int dataStart = 8 + headerLength;
        int compared = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            if (entry.getKey().equals("__metadata__")) {
                continue;
            }
            assertEquals("F32", entry.getValue().get("dtype").asText());
            int begin = entry.getValue().get("data_offsets").get(0).asInt();
            float[] expected = new float[(entry.getValue().get("data_offsets").get(1).asInt() - begin) / 4];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = bytes.getFloat(dataStart + begin + 4 * i);
            }
            float[] actual = loaded.weight(entry.getKey()).reshape(-1).toFloatVector();
            assertArrayEquals(expected, actual, 0f, entry.getKey());
            compared++;
        }
        assertEquals(loaded.weights().size(), compared);
        // Gemma's norm weights are random here (it scales by 1 + w), so a zero would mean a misread
        assertFalse(loaded.weight("model.norm.weight").sumNumber().doubleValue() == 0.0);
    }
}
