package org.refusallab.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a Hugging Face GemmaForCausalLM or Gemma2ForCausalLM checkpoint directory: config.json plus model.safetensors, or shards listed
 * in model.safetensors.index.json. Every header is read and checked against config.json before any weight is
 * allocated; then tensors are streamed one by one into float32 arrays.
 */
public final class Checkpoint {

    public static final String CONFIG_FILE = "config.json";
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final Logger LOG = LoggerFactory.getLogger(Checkpoint.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoint() {
    }

    /** Told after each tensor is loaded, e.g. to drive a progress bar (a gemma-2b load reads about 5 GB). */
    @FunctionalInterface
    public interface LoadListener {
        void loaded(String tensor, int tensorsDone, int tensorsTotal, long floatBytesDone, long floatBytesTotal);
    }

    public static LoadedCheckpoint load(Path dir) {
        return load(dir, null);
    }

    /** @param geluOverride the user's explicit GELU choice, or null to use what config.json implies */
    public static LoadedCheckpoint load(Path dir, GemmaConfig.Gelu geluOverride) {
        return load(dir, geluOverride, null);
    }

    /**
     * @param geluOverride the user's explicit GELU choice, or null to use what config.json implies
     * @param listener     told of each loaded tensor, or null
     */
    public static LoadedCheckpoint load(Path dir, GemmaConfig.Gelu geluOverride, LoadListener listener) {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir + ": checkpoint directory does not exist");
        }
        Path configFile = dir.resolve(CONFIG_FILE);
        GemmaConfig config = GemmaConfigs.read(configFile);
        if (geluOverride != null) {
            config = config.withGelu(geluOverride);
        }
        Layout layout = locate(dir);
        Map<String, long[]> expected = GemmaTensors.expectedShapes(config);
        validate(config, configFile, expected, layout);

        long floatBytes = expected.values().stream().mapToLong(s -> SafetensorsFile.elementCount(s) * 4L).sum();
        LOG.info("Loading {} tensors ({} MB as float32) from {}", expected.size(), floatBytes >> 20, dir);
        Map<String, INDArray> weights = new LinkedHashMap<>();
        TreeSet<String> storedDtypes = new TreeSet<>();
        long bytesDone = 0;
        for (String name : expected.keySet()) {
            SafetensorsFile file = layout.fileOf.get(name);
            storedDtypes.add(file.entry(name).dtype().name());
            INDArray w = file.read(name);
            weights.put(name, w);
            bytesDone += w.length() * 4L;
            if (listener != null) {
                listener.loaded(name, weights.size(), expected.size(), bytesDone, floatBytes);
            }
        }
        return new LoadedCheckpoint(config, Collections.unmodifiableMap(weights), dir, String.join("+", storedDtypes));
    }

    /** Where each tensor lives, and which file says so (for error messages). */
    private record Layout(Map<String, SafetensorsFile> fileOf, Path source) {
    }

    private static Layout locate(Path dir) {
        Path index = dir.resolve(INDEX_FILE);
        Path single = dir.resolve(SINGLE_FILE);
        if (Files.isRegularFile(index)) {
            return fromIndex(dir, index);
        }
        if (Files.isRegularFile(single)) {
            SafetensorsFile file = SafetensorsFile.open(single);
            Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
            file.tensors().keySet().forEach(name -> fileOf.put(name, file));
            return new Layout(fileOf, single);
        }
        throw new CheckpointException(dir + ": neither " + SINGLE_FILE + " nor " + INDEX_FILE + " found");
    }

    private static Layout fromIndex(Path dir, Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new CheckpointException(index + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new CheckpointException(index + ": no weight_map object");
        }
        // check every shard exists before opening any, so a missing one is reported first and by name
        Map<String, String> shardOf = new LinkedHashMap<>();
        Path base = dir.toAbsolutePath().normalize();
        for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(index + ": weight_map entry for tensor " + e.getKey()
                        + " is not a file name: " + e.getValue());
            }
            String shard = e.getValue().asText();
            Path shardPath = base.resolve(shard).normalize();
            if (!base.equals(shardPath.getParent())) {
                throw new CheckpointException(index + ": shard \"" + shard + "\" of tensor " + e.getKey()
                        + " is not a file in the checkpoint directory");
            }
            if (!Files.isRegularFile(shardPath)) {
                throw new CheckpointException(index + ": shard " + shardPath + " (holding tensor " + e.getKey()
                        + ") does not exist");
            }
            shardOf.put(e.getKey(), shard);
        }
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : shardOf.entrySet()) {
            SafetensorsFile shard = shards.computeIfAbsent(e.getValue(), s -> SafetensorsFile.open(base.resolve(s)));
            if (!shard.tensors().containsKey(e.getKey())) {
                throw new CheckpointException(shard.file() + ": tensor " + e.getKey() + " is missing, though "
                        + index + " says this shard holds it");
            }
            fileOf.put(e.getKey(), shard);
        }
        return new Layout(fileOf, index);
    }

    private static void validate(GemmaConfig config, Path configFile, Map<String, long[]> expected, Layout layout) {
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            String name = e.getKey();
            SafetensorsFile file = layout.fileOf.get(name);
            if (file == null) {
                throw new CheckpointException(layout.source + ": tensor " + name + " is missing (expected shape "
                        + Arrays.toString(e.getValue()) + ")");
            }
            long[] found = file.entry(name).shape();
            if (!Arrays.equals(found, e.getValue())) {
                throw new CheckpointException(file.file() + ": tensor " + name + " has shape " + Arrays.toString(found)
                        + " but " + configFile + " implies " + Arrays.toString(e.getValue()));
            }
        }
        for (Map.Entry<String, SafetensorsFile> e : layout.fileOf.entrySet()) {
            String name = e.getKey();
            if (expected.containsKey(name)) {
                continue;
            }
            long[] found = e.getValue().entry(name).shape();
            if (GemmaTensors.LM_HEAD.equals(name)) {
                long[] tied = {config.vocabSize(), config.hiddenSize()};
                if (!Arrays.equals(found, tied)) {
                    throw new CheckpointException(e.getValue().file() + ": tensor " + name + " has shape "
                            + Arrays.toString(found) + " but the tied embedding is " + Arrays.toString(tied));
                }
                LOG.info("{}: ignoring {}: Gemma ties the output projection to the embedding", e.getValue().file(), name);
                continue;
            }
            throw new CheckpointException(e.getValue().file() + ": unexpected tensor " + name + " (shape "
                    + Arrays.toString(found) + "): not part of a " + (config.isGemma2() ? "Gemma 2" : "Gemma 1") + " checkpoint as " + configFile + " describes it");
        }
    }
}
