package org.refusallab.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads Hugging Face's config.json for a Gemma 1 ({@code model_type: gemma}) checkpoint. */
public final class GemmaConfigs {

    /** The only architecture the engine implements. */
    public static final String SUPPORTED_MODEL_TYPE = "gemma";

    private static final ObjectMapper JSON = new ObjectMapper();

    private GemmaConfigs() {
    }

    /**
     * Reads a config.json. {@code rope_theta} may be top-level (older checkpoints, gemma-2b-it) or under
     * {@code rope_parameters} (transformers 5). The GELU comes from {@code hidden_activation} when present;
     * otherwise a Gemma 1 config's {@code hidden_act} is ignored and the tanh approximation is used, because
     * gemma-2b-it says {@code hidden_act: gelu} but was trained with tanh. Callers apply a user's explicit choice
     * with {@link GemmaConfig#withGelu}.
     */
    public static GemmaConfig read(Path configJson) {
        if (!Files.isRegularFile(configJson)) {
            throw new CheckpointException(configJson + ": config.json not found");
        }
        JsonNode root;
        try {
            root = JSON.readTree(configJson.toFile());
        } catch (IOException e) {
            throw new CheckpointException(configJson + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(configJson + ": expected a JSON object");
        }
        return parse(root, configJson);
    }

    static GemmaConfig parse(JsonNode root, Path file) {
        String modelType = text(root, "model_type", null, file);
        if (modelType == null) {
            throw new CheckpointException(file + ": no model_type (expected \"" + SUPPORTED_MODEL_TYPE + "\")");
        }
        if (!SUPPORTED_MODEL_TYPE.equals(modelType)) {
            throw new CheckpointException(file + ": unsupported model_type \"" + modelType
                    + "\" (only \"" + SUPPORTED_MODEL_TYPE + "\", Gemma 1, is supported)");
        }
        int vocab = positiveInt(root, "vocab_size", null, file);
        int hidden = positiveInt(root, "hidden_size", null, file);
        int intermediate = positiveInt(root, "intermediate_size", null, file);
        int layers = positiveInt(root, "num_hidden_layers", null, file);
        int heads = positiveInt(root, "num_attention_heads", null, file);
        int kvHeads = positiveInt(root, "num_key_value_heads", heads, file);
        if (heads % kvHeads != 0) {
            throw new CheckpointException(file + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        Integer defaultHeadDim = hidden % heads == 0 ? hidden / heads : null;
        int headDim = positiveInt(root, "head_dim", defaultHeadDim, file);
        double eps = number(root, "rms_norm_eps", 1e-6, file);
        double ropeTheta = ropeTheta(root, file);
        GemmaConfig.Gelu gelu = gelu(root, file);
        String dtype = text(root, "torch_dtype", null, file);
        if (dtype == null) {
            dtype = text(root, "dtype", "float32", file);
        }
        int bos = tokenId(root, "bos_token_id", 2, file);
        int eos = tokenId(root, "eos_token_id", 1, file);
        int pad = tokenId(root, "pad_token_id", 0, file);
        int maxPos = positiveInt(root, "max_position_embeddings", 8192, file);
        return new GemmaConfig(modelType, vocab, hidden, intermediate, layers, heads, kvHeads, headDim, eps,
                ropeTheta, gelu, dtype, bos, eos, pad, maxPos);
    }

    private static double ropeTheta(JsonNode root, Path file) {
        JsonNode top = root.get("rope_theta");
        if (top != null && !top.isNull()) {
            return positiveNumber(top, "rope_theta", file);
        }
        JsonNode params = root.get("rope_parameters");
        if (params != null && params.isObject()) {
            JsonNode nested = params.get("rope_theta");
            if (nested != null && !nested.isNull()) {
                return positiveNumber(nested, "rope_parameters.rope_theta", file);
            }
        }
        return 10000.0;
    }

    private static GemmaConfig.Gelu gelu(JsonNode root, Path file) {
        String activation = text(root, "hidden_activation", null, file);
        if (activation == null) {
            return GemmaConfig.Gelu.TANH;
        }
        return switch (activation) {
            case "gelu" -> GemmaConfig.Gelu.EXACT; // Hugging Face's ACT2FN["gelu"] is the erf form
            case "gelu_pytorch_tanh", "gelu_new", "gelu_fast" -> GemmaConfig.Gelu.TANH;
            default -> throw new CheckpointException(file + ": unsupported hidden_activation \"" + activation
                    + "\" (expected gelu or gelu_pytorch_tanh)");
        };
    }

    private static String text(JsonNode root, String field, String fallback, Path file) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw new CheckpointException(file + ": " + field + " should be a string, found " + n);
        }
        return n.asText();
    }

    private static int positiveInt(JsonNode root, String field, Integer fallback, Path file) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            if (fallback == null) {
                throw new CheckpointException(file + ": required field " + field + " is missing");
            }
            return fallback;
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.intValue() <= 0) {
            throw new CheckpointException(file + ": " + field + " should be a positive integer, found " + n);
        }
        return n.intValue();
    }

    /** Token ids; some configs give a list of eos ids, of which the first is the one the model emits. */
    private static int tokenId(JsonNode root, String field, int fallback, Path file) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (n.isArray() && n.size() > 0) {
            n = n.get(0);
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
            throw new CheckpointException(file + ": " + field + " should be a non-negative integer, found " + n);
        }
        return n.intValue();
    }

    private static double number(JsonNode root, String field, double fallback, Path file) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        return positiveNumber(n, field, file);
    }

    private static double positiveNumber(JsonNode n, String field, Path file) {
        if (!n.isNumber() || !(n.doubleValue() > 0) || Double.isInfinite(n.doubleValue())) {
            throw new CheckpointException(file + ": " + field + " should be a positive number, found " + n);
        }
        return n.doubleValue();
    }
}
