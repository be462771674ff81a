package org.refusallab.checkpoint;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.refusallab.checkpoint.TestCheckpoints.assertMentions;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Each test writes a broken checkpoint and checks the loader refuses it with a message naming file and tensor. */
class CheckpointErrorsTest {

    @TempDir
    Path tmp;

    private final GemmaConfig config = TestCheckpoints.tinyConfig();

    private Map<String, INDArray> weights() {
        return new LinkedHashMap<>(TestCheckpoints.randomWeights(config, 11));
    }

    private CheckpointException loadFails() {
        return assertThrows(CheckpointException.class, () -> Checkpoint.load(tmp));
    }

    @Test
    void missingShard() throws IOException {
        CheckpointWriter.write(tmp, config, weights(), StoredDtype.BF16, 5000);
        String tensor = GemmaTensors.upProj(0);
        Path shard = tmp.resolve(shardOf(tensor));
        Files.delete(shard);
        assertMentions(loadFails(), shard.toString(), "model.safetensors.index.json", "does not exist");
    }

    private String shardOf(String tensor) throws IOException {
        return TestCheckpoints.readJson(tmp.resolve("model.safetensors.index.json")).get("weight_map").get(tensor)
                .asText();
    }

    @Test
    void truncatedFile() throws IOException {
        CheckpointWriter.write(tmp, config, weights(), StoredDtype.F32, 0);
        Path file = tmp.resolve("model.safetensors");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 10);
        }
        // tensors are stored by name, so model.norm.weight is the last one and the only one cut
        assertMentions(loadFails(), file.toString(), GemmaTensors.FINAL_NORM, "past the end", "truncated");
    }

    @Test
    void headerLengthPastTheEndOfTheFile() throws IOException {
        CheckpointWriter.write(tmp, config, weights(), StoredDtype.F32, 0);
        Path file = tmp.resolve("model.safetensors");
        long size = Files.size(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, size), 0);
        }
        assertMentions(loadFails(), file.toString(), "header length " + size, "past the end");
    }

    @Test
    void tensorOffsetsPastTheEndOfTheFile() throws IOException {
        CheckpointWriter.write(tmp, config, weights(), StoredDtype.F32, 0);
        Path file = tmp.resolve("model.safetensors");
        String tensor = GemmaTensors.qProj(1);
        TestCheckpoints.editHeader(file, h -> ((com.fasterxml.jackson.databind.node.ArrayNode)
                h.get(tensor).get("data_offsets")).set(1, 1L << 40));
        assertMentions(loadFails(), file.toString(), tensor, "past the end");
    }

    @Test
    void offsetsInconsistentWithShapeAndDtype() throws IOException {
        CheckpointWriter.write(tmp, config, weights(), StoredDtype.F32, 0);
        Path file = tmp.resolve("model.safetensors");
        String tensor = GemmaTensors.downProj(0);
        TestCheckpoints.editHeader(file, h -> ((ObjectNode) h.get(tensor)).put("dtype", "BF16"));
        assertMentions(loadFails(), file.toString(), tensor, "bytes", "needs");
    }

    @Test
    void unknownDtype() throws IOException {
        CheckpointWriter.write(tmp, config, weights(), StoredDtype.F32, 0);
        Path file = tmp.resolve("model.safetensors");
        String tensor = GemmaTensors.upProj(1);
        TestCheckpoints.editHeader(file, h -> ((ObjectNode) h.get(tensor)).put("dtype", "F8_E4M3"));
        assertMentions(loadFails(), file.toString(), tensor, "unsupported dtype F8_E4M3");
    }

    @Test
    void shapeDisagreeingWithConfig() throws IOException {
        Map<String, INDArray> w = weights();
        String tensor = GemmaTensors.kProj(1);
        w.put(tensor, Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 24, 16)); // as if 2 kv heads
        CheckpointWriter.write(tmp, config, w, StoredDtype.F32, 0);
        assertMentions(loadFails(), tmp.resolve("model.safetensors").toString(), tensor, "[24, 16]", "[12, 16]",
                "config.json");
    }

    @Test
    void nanWeight() throws IOException {
        Map<String, INDArray> w = weights();
        String tensor = GemmaTensors.gateProj(1);
        w.get(tensor).putScalar(new long[] {3, 5}, Float.NaN);
        CheckpointWriter.write(tmp, config, w, StoredDtype.BF16, 0);
        assertMentions(loadFails(), tmp.resolve("model.safetensors").toString(), tensor, "NaN", "[3, 5]");
    }

    @Test
    void infiniteWeight() throws IOException {
        CheckpointWriter.write(tmp, config, weights(), StoredDtype.F32, 0);
        Path file = tmp.resolve("model.safetensors");
        TestCheckpoints.pokeFloat(file, GemmaTensors.EMBED, 16 * 7 + 2, Float.NEGATIVE_INFINITY);
        assertMentions(loadFails(), file.toString(), GemmaTensors.EMBED, "-Infinity", "[7, 2]");
    }

    @Test
    void bf16OverflowToInfinityIsCaught() throws IOException {
        Map<String, INDArray> w = weights();
        w.get(GemmaTensors.FINAL_NORM).putScalar(4, Float.MAX_VALUE); // rounds up past bf16's largest finite
        CheckpointWriter.write(tmp, config, w, StoredDtype.BF16, 0);
        assertMentions(loadFails(), tmp.resolve("model.safetensors").toString(), GemmaTensors.FINAL_NORM,
                "Infinity", "[4]");
    }

    @Test
    void unsupportedModelType() throws IOException {
        CheckpointWriter.write(tmp, config, weights(), StoredDtype.F32, 0);
        Path configFile = tmp.resolve("config.json");
        TestCheckpoints.editJson(configFile, c -> c.put("model_type", "gemma3"));
        assertMentions(loadFails(), configFile.toString(), "unsupported model_type \"gemma3\"");
    }

    @Test
    void missingTensorInSingleFile() throws IOException {
        Map<String, INDArray> w = weights();
        String tensor = GemmaTensors.postAttentionLayernorm(1);
        w.remove(tensor);
        CheckpointWriter.write(tmp, config, w, StoredDtype.F32, 0);
        assertMentions(loadFails(), tmp.resolve("model.safetensors").toString(), tensor, "missing");
    }

    @Test
    void missingTensorInShardedCheckpoint() throws IOException {
        Map<String, INDArray> w = weights();
        String tensor = GemmaTensors.vProj(0);
        w.remove(tensor);
        CheckpointWriter.write(tmp, config, w, StoredDtype.BF16, 5000);
        assertMentions(loadFails(), tmp.resolve("model.safetensors.index.json").toString(), tensor, "missing");
    }

    @Test
    void indexNamesATensorTheShardLacks() throws IOException {
        CheckpointWriter.write(tmp, config, weights(), StoredDtype.BF16, 5000);
        Path index = tmp.resolve("model.safetensors.index.json");
        String tensor = GemmaTensors.oProj(1);
        String realShard = shardOf(tensor);
        String otherShard = shardOf(GemmaTensors.EMBED);
        assertNotEquals(realShard, otherShard);
        TestCheckpoints.editJson(index, j -> ((ObjectNode) j.get("weight_map")).put(tensor, otherShard));
        assertMentions(loadFails(), tmp.resolve(otherShard).toString(), tensor, "index.json");
    }

    @Test
    void lmHeadWithAnotherShape() throws IOException {
        Map<String, INDArray> w = weights();
        w.put(GemmaTensors.LM_HEAD, Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 41, 16));
        CheckpointWriter.write(tmp, config, w, StoredDtype.F32, 0);
        assertMentions(loadFails(), tmp.resolve("model.safetensors").toString(), GemmaTensors.LM_HEAD, "[41, 16]",
                "[40, 16]");
    }

    @Test
    void unexpectedTensor() throws IOException {
        Map<String, INDArray> w = weights();
        String tensor = "model.layers.0.post_feedforward_layernorm.weight"; // a Gemma 2 tensor
        w.put(tensor, Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 16));
        CheckpointWriter.write(tmp, config, w, StoredDtype.F32, 0);
        assertMentions(loadFails(), tmp.resolve("model.safetensors").toString(), tensor, "unexpected");
    }

    @Test
    void noWeightsFileAtAll() throws IOException {
        CheckpointWriter.write(tmp, config, weights(), StoredDtype.F32, 0);
        Files.delete(tmp.resolve("model.safetensors"));
        assertMentions(loadFails(), tmp.toString(), "model.safetensors", "model.safetensors.index.json");
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        CheckpointWriter.write(tmp, config, weights(), StoredDtype.F32, 0);
        Path file = tmp.resolve("model.safetensors");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap("[[[[".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), 8);
        }
        assertMentions(loadFails(), file.toString(), "JSON");
    }
}
