package org.refusallab.checkpoint;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Small random checkpoints for tests, and raw edits of the files the writer produced. */
final class TestCheckpoints {

    static final ObjectMapper JSON = new ObjectMapper();

    private TestCheckpoints() {
    }

    /** Like gemma-2b in miniature: multi-query attention, head_dim not equal to d_model / heads. */
    static GemmaConfig tinyConfig() {
        return new GemmaConfig("gemma", 40, 16, 24, 2, 2, 1, 12, 1e-6, 10000.0, GemmaConfig.Gelu.TANH, "float32",
                2, 1, 0, 128);
    }

    /** Gaussian weights from java.util.Random, so the expected values do not depend on ND4J. */
    static Map<String, INDArray> randomWeights(GemmaConfig config, long seed) {
        Random random = new Random(seed);
        Map<String, INDArray> weights = new LinkedHashMap<>();
        GemmaTensors.expectedShapes(config).forEach((name, shape) -> {
            float[] values = new float[(int) SafetensorsFile.elementCount(shape)];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            weights.put(name, Nd4j.create(values, shape, 'c'));
        });
        return weights;
    }

    static float[] flat(INDArray a) {
        return a.reshape(-1).toFloatVector();
    }

    static ObjectNode readJson(Path file) throws IOException {
        return (ObjectNode) JSON.readTree(file.toFile());
    }

    static void editJson(Path file, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode node = readJson(file);
        edit.accept(node);
        Files.writeString(file, JSON.writeValueAsString(node));
    }

    static long headerLength(Path safetensors) throws IOException {
        byte[] first = Arrays.copyOf(Files.readAllBytes(safetensors), 8);
        return ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    static ObjectNode readHeader(Path safetensors) throws IOException {
        byte[] bytes = Files.readAllBytes(safetensors);
        int n = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        return (ObjectNode) JSON.readTree(new String(bytes, 8, n, StandardCharsets.UTF_8));
    }

    /** Rewrites a safetensors header (compact JSON, re-padded) in front of the unchanged data region. */
    static void editHeader(Path safetensors, Consumer<ObjectNode> edit) throws IOException {
        byte[] bytes = Files.readAllBytes(safetensors);
        int n = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        ObjectNode header = (ObjectNode) JSON.readTree(new String(bytes, 8, n, StandardCharsets.UTF_8));
        edit.accept(header);
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + bytes.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        out.put(bytes, 8 + n, bytes.length - 8 - n);
        Files.write(safetensors, out.array());
    }

    /** Overwrites one float32 element of a tensor in an F32 file, in place. */
    static void pokeFloat(Path safetensors, String tensor, int element, float value) throws IOException {
        ObjectNode header = readHeader(safetensors);
        long begin = header.get(tensor).get("data_offsets").get(0).asLong();
        long position = 8 + headerLength(safetensors) + begin + 4L * element;
        byte[] bytes = Files.readAllBytes(safetensors);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putFloat((int) position, value);
        Files.write(safetensors, bytes);
    }

    static void assertMentions(Throwable e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should mention '" + part + "': " + e.getMessage());
        }
    }
}
