package org.refusallab.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Writes a checkpoint directory as transformers' {@code save_pretrained} does for GemmaForCausalLM: config.json,
 * generation_config.json, and model.safetensors, or model-0000K-of-0000N.safetensors shards with
 * model.safetensors.index.json. Tensors are written as given (no check against the config, so tests can write
 * deliberately broken checkpoints), sorted by name, one at a time through a small buffer.
 */
public final class CheckpointWriter {

    /** Produces one tensor when the writer reaches it, so a caller never needs all of them in memory at once. */
    @FunctionalInterface
    public interface TensorSource {
        INDArray tensor(String name);
    }

    private static final int CHUNK_ELEMENTS = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private CheckpointWriter() {
    }

    /**
     * @param maxShardBytes largest shard in bytes (a bigger tensor gets a shard of its own), or 0 for one file
     */
    public static void write(Path dir, GemmaConfig config, Map<String, INDArray> weights, StoredDtype dtype,
                             long maxShardBytes) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        weights.forEach((name, w) -> shapes.put(name, w.shape()));
        write(dir, config, shapes, weights::get, dtype, maxShardBytes);
    }

    /**
     * One safetensors file of arbitrary named tensors (activation caches, directions), in name order, with the same
     * header layout as a checkpoint shard. Written to a temporary sibling and moved into place, so a failure leaves
     * no half-written file.
     */
    public static void writeTensors(Path file, Map<String, INDArray> tensors, StoredDtype dtype) {
        writeTensors(file, tensors, dtype, Map.of());
    }

    /**
     * As {@link #writeTensors(Path, Map, StoredDtype)}, plus integer tensors stored as int64 ({@code I64}, e.g. token
     * ids), each given as its shape's rows of values ({@code [rows][columns]}), after the float tensors.
     */
    public static void writeTensors(Path file, Map<String, INDArray> tensors, StoredDtype dtype, Map<String, long[][]> int64) {
        java.util.TreeMap<String, long[]> shapes = new java.util.TreeMap<>();
        tensors.forEach((name, t) -> shapes.put(name, t.shape()));
        Path tmp = file.resolveSibling("." + file.getFileName() + ".partial");
        try {
            writeSafetensors(tmp, shapes, tensors::get, dtype, new java.util.TreeMap<>(int64));
            java.nio.file.Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new CheckpointException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Streaming form: {@code source} is asked for each tensor of {@code shapes} in turn, in name order. */
    public static void write(Path dir, GemmaConfig config, Map<String, long[]> shapes, TensorSource source,
                             StoredDtype dtype, long maxShardBytes) {
        if (dtype != StoredDtype.F32 && dtype != StoredDtype.BF16) {
            throw new CheckpointException(dir + ": cannot write " + dtype + " (use F32 or BF16)");
        }
        if (maxShardBytes < 0) {
            throw new IllegalArgumentException("maxShardBytes must be >= 0, got " + maxShardBytes);
        }
        try {
            Files.createDirectories(dir);
            refuseExistingCheckpoint(dir);
            writeJson(dir.resolve(Checkpoint.CONFIG_FILE), configJson(config.withTorchDtype(dtype.torchName())));
            writeJson(dir.resolve("generation_config.json"), generationConfigJson(config));
            List<Map<String, long[]>> shards = planShards(new TreeMap<>(shapes), dtype, maxShardBytes);
            if (shards.size() == 1) {
                writeSafetensors(dir.resolve(Checkpoint.SINGLE_FILE), shards.get(0), source, dtype);
                return;
            }
            ObjectNode weightMap = JSON.createObjectNode();
            long totalSize = 0;
            for (int k = 0; k < shards.size(); k++) {
                String fileName = String.format("model-%05d-of-%05d.safetensors", k + 1, shards.size());
                writeSafetensors(dir.resolve(fileName), shards.get(k), source, dtype);
                for (Map.Entry<String, long[]> e : shards.get(k).entrySet()) {
                    weightMap.put(e.getKey(), fileName);
                    totalSize += SafetensorsFile.elementCount(e.getValue()) * dtype.bytes();
                }
            }
            ObjectNode index = JSON.createObjectNode();
            index.putObject("metadata").put("total_size", totalSize);
            index.set("weight_map", weightMap);
            writeJson(dir.resolve(Checkpoint.INDEX_FILE), index);
        } catch (IOException e) {
            throw new CheckpointException(dir + ": cannot write checkpoint: " + e.getMessage(), e);
        }
    }

    /** Stale shards or a stale index next to the new files would be loaded instead of them. */
    private static void refuseExistingCheckpoint(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            List<String> existing = files.map(p -> p.getFileName().toString())
                    .filter(f -> f.endsWith(".safetensors") || f.equals(Checkpoint.INDEX_FILE)).sorted().toList();
            if (!existing.isEmpty()) {
                throw new CheckpointException(dir + ": already holds " + existing + "; write to an empty directory");
            }
        }
    }

    /** As transformers: fill a shard in order until the next tensor would overflow it. */
    private static List<Map<String, long[]>> planShards(TreeMap<String, long[]> sorted, StoredDtype dtype,
                                                        long maxShardBytes) {
        List<Map<String, long[]>> shards = new ArrayList<>();
        Map<String, long[]> current = new LinkedHashMap<>();
        long currentBytes = 0;
        for (Map.Entry<String, long[]> e : sorted.entrySet()) {
            long bytes = SafetensorsFile.elementCount(e.getValue()) * dtype.bytes();
            if (maxShardBytes > 0 && !current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentBytes = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentBytes += bytes;
        }
        shards.add(current);
        return shards;
    }

    static ObjectNode configJson(GemmaConfig c) {
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add(c.isGemma2() ? "Gemma2ForCausalLM" : "GemmaForCausalLM");
        n.put("attention_bias", false);
        n.put("attention_dropout", 0.0);
        n.put("bos_token_id", c.bosTokenId());
        n.put("eos_token_id", c.eosTokenId());
        n.put("head_dim", c.headDim());
        String activation = c.gelu() == GemmaConfig.Gelu.TANH ? "gelu_pytorch_tanh" : "gelu";
        n.put("hidden_act", activation);
        n.put("hidden_activation", activation);
        n.put("hidden_size", c.hiddenSize());
        n.put("initializer_range", 0.02);
        n.put("intermediate_size", c.intermediateSize());
        n.put("max_position_embeddings", c.maxPositionEmbeddings());
        n.put("model_type", c.modelType());
        n.put("num_attention_heads", c.numHeads());
        n.put("num_hidden_layers", c.numLayers());
        n.put("num_key_value_heads", c.numKvHeads());
        n.put("pad_token_id", c.padTokenId());
        n.put("rms_norm_eps", c.rmsNormEps());
        n.put("rope_theta", c.ropeTheta());
        n.put("tie_word_embeddings", true);
        n.put("torch_dtype", c.torchDtype());
        n.put("use_cache", true);
        n.put("vocab_size", c.vocabSize());
        if (c.isGemma2()) {
            GemmaConfig.Gemma2 g = c.gemma2();
            n.put("sliding_window", g.slidingWindow());
            ArrayNode types = n.putArray("layer_types");
            g.slidingLayers().forEach(s -> types.add(s ? GemmaConfigs.SLIDING_ATTENTION : GemmaConfigs.FULL_ATTENTION));
            double scalar = g.queryPreAttnScalar();
            if (scalar == Math.rint(scalar)) {
                n.put("query_pre_attn_scalar", (long) scalar); // an int in transformers' config class
            } else {
                n.put("query_pre_attn_scalar", scalar);
            }
            putSoftcap(n, "attn_logit_softcapping", g.attnLogitSoftcap());
            putSoftcap(n, "final_logit_softcapping", g.finalLogitSoftcap());
        }
        return n;
    }

    private static void putSoftcap(ObjectNode n, String field, double cap) {
        if (cap > 0) {
            n.put(field, cap);
        } else {
            n.putNull(field);
        }
    }

    private static ObjectNode generationConfigJson(GemmaConfig c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("_from_model_config", true);
        n.put("bos_token_id", c.bosTokenId());
        n.put("eos_token_id", c.eosTokenId());
        n.put("pad_token_id", c.padTokenId());
        return n;
    }

    private static void writeJson(Path file, ObjectNode node) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(node) + "\n");
    }

    /** Header: {@code __metadata__} then tensors by name, padded with spaces to a multiple of 8 bytes. */
    static byte[] header(Map<String, long[]> tensors, StoredDtype dtype) throws IOException {
        return header(tensors, dtype, Map.of());
    }

    /** The header of float tensors (as dtype) followed by int64 tensors given as rows. */
    static byte[] header(Map<String, long[]> tensors, StoredDtype dtype, Map<String, long[][]> int64) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (Map.Entry<String, long[]> e : tensors.entrySet()) {
            long bytes = SafetensorsFile.elementCount(e.getValue()) * dtype.bytes();
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", dtype.name());
            ArrayNode shape = t.putArray("shape");
            Arrays.stream(e.getValue()).forEach(shape::add);
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        for (Map.Entry<String, long[][]> e : int64.entrySet()) {
            long[][] rows = e.getValue();
            long bytes = 8L * rows.length * (rows.length == 0 ? 0 : rows[0].length);
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "I64");
            t.putArray("shape").add(rows.length).add(rows.length == 0 ? 0 : rows[0].length);
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] compact = new ObjectMapper().writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (compact.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(compact, padded);
        Arrays.fill(out, compact.length, padded, (byte) ' ');
        return out;
    }

    private static void writeSafetensors(Path file, Map<String, long[]> tensors, TensorSource source,
                                         StoredDtype dtype) throws IOException {
        writeSafetensors(file, tensors, source, dtype, Map.of());
    }

    private static void writeSafetensors(Path file, Map<String, long[]> tensors, TensorSource source,
                                         StoredDtype dtype, Map<String, long[][]> int64) throws IOException {
        byte[] header = header(tensors, dtype, int64);
        ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_ELEMENTS * 4).order(ByteOrder.LITTLE_ENDIAN);
        float[] floats = new float[CHUNK_ELEMENTS];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer prefix = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            prefix.putLong(header.length).put(header).flip();
            writeFully(ch, prefix);
            for (Map.Entry<String, long[]> e : tensors.entrySet()) {
                INDArray w = contiguousFloat(source.tensor(e.getKey()), e.getKey(), e.getValue(), file);
                long n = w.length();
                if (n == 0) {
                    continue;
                }
                FloatPointer values = new FloatPointer(w.data().addressPointer());
                for (long done = 0; done < n; ) {
                    int count = (int) Math.min(CHUNK_ELEMENTS, n - done);
                    values.position(done).limit(done + count);
                    values.asBuffer().get(floats, 0, count);
                    chunk.clear();
                    if (dtype == StoredDtype.F32) {
                        chunk.asFloatBuffer().put(floats, 0, count);
                        chunk.limit(count * 4);
                    } else {
                        for (int i = 0; i < count; i++) {
                            chunk.putShort(StoredDtype.floatToBf16(floats[i]));
                        }
                        chunk.flip();
                    }
                    writeFully(ch, chunk);
                    done += count;
                }
            }
            for (long[][] rows : int64.values()) {
                for (long[] row : rows) {
                    ByteBuffer b = ByteBuffer.allocate(8 * row.length).order(ByteOrder.LITTLE_ENDIAN);
                    for (long v : row) b.putLong(v);
                    b.flip();
                    writeFully(ch, b);
                }
            }
        }
    }

    private static INDArray contiguousFloat(INDArray w, String name, long[] shape, Path file) {
        if (w == null) {
            throw new CheckpointException(file + ": no tensor " + name + " to write");
        }
        if (!Arrays.equals(w.shape(), shape)) {
            throw new CheckpointException(file + ": tensor " + name + " has shape " + Arrays.toString(w.shape())
                    + ", announced as " + Arrays.toString(shape));
        }
        INDArray f = w.dataType() == DataType.FLOAT ? w : w.castTo(DataType.FLOAT);
        if (f.isView() || f.ordering() != 'c' || f.data().offset() != 0 || f.data().length() != f.length()) {
            f = f.dup('c');
        }
        // a GPU backend may hold the newest values on the device
        Nd4j.getAffinityManager().ensureLocation(f, AffinityManager.Location.HOST);
        return f;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            ch.write(buffer);
        }
    }
}
