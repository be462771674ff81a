package org.refusallab.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads Hugging Face's config.json for a Gemma 1 ({@code model_type: gemma}) or Gemma 2 ({@code gemma2}) checkpoint. */
public final class GemmaConfigs {

    /** Gemma 1, the first architecture the engine implemented. */
    public static final String SUPPORTED_MODEL_TYPE = GemmaConfig.GEMMA1_MODEL_TYPE;

    /** Every {@code model_type} the engine implements. */
    public static final java.util.List<String> SUPPORTED_MODEL_TYPES =
            java.util.List.of(GemmaConfig.GEMMA1_MODEL_TYPE, GemmaConfig.GEMMA2_MODEL_TYPE);

    /** Gemma 2's {@code layer_types} values the graph implements. */
    public static final String SLIDING_ATTENTION = "sliding_attention", FULL_ATTENTION = "full_attention";

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
            throw new CheckpointException(file + ": no model_type (expected \"gemma\" or \"gemma2\")");
        }
        if (!SUPPORTED_MODEL_TYPES.contains(modelType)) {
            throw new CheckpointException(file + ": unsupported model_type \"" + modelType
                    + "\" (supported: \"gemma\", Gemma 1, and \"gemma2\", Gemma 2)");
        }
        boolean gemma2 = GemmaConfig.GEMMA2_MODEL_TYPE.equals(modelType);
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
        if (gemma2 && text(root, "hidden_activation", null, file) == null) {
            // Gemma 2 runs hidden_activation only (transformers ignores hidden_act for it): say which one is meant.
            throw missing(file, "hidden_activation", "gelu_pytorch_tanh for gemma-2 checkpoints");
        }
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
                ropeTheta, gelu, dtype, bos, eos, pad, maxPos, gemma2 ? gemma2(root, layers, file) : null);
    }

    /**
     * Gemma 2's fields. Unlike the shapes above, none has a default here: transformers would fill in gemma-2-2b's
     * values (soft-caps 50 and 30, query_pre_attn_scalar 256, window 4096), which would silently be wrong for any
     * other model. A soft-cap given as null means none, as in transformers. Without {@code layer_types} (configs
     * written before transformers 4.53) even layers are local and odd layers global, transformers' rule.
     */
    private static GemmaConfig.Gemma2 gemma2(JsonNode root, int layers, Path file) {
        java.util.List<Boolean> sliding = layerTypes(root, layers, file);
        JsonNode bidirectional = root.get("use_bidirectional_attention");
        if (bidirectional != null && bidirectional.asBoolean(false)) {
            throw new CheckpointException(file + ": use_bidirectional_attention is true; the graph implements causal attention only");
        }
        int window = 0;
        if (sliding.contains(true)) {
            JsonNode w = root.get("sliding_window");
            if (w == null || w.isNull()) {
                throw missing(file, "sliding_window", "the local layers' window, e.g. 4096 for gemma-2 checkpoints");
            }
            window = positiveInt(root, "sliding_window", null, file);
        }
        if (root.get("query_pre_attn_scalar") == null || root.get("query_pre_attn_scalar").isNull()) {
            throw missing(file, "query_pre_attn_scalar", "attention scores are scaled by its -1/2 power; 256 for gemma-2-2b");
        }
        double scalar = number(root, "query_pre_attn_scalar", 0, file);
        return new GemmaConfig.Gemma2(window, sliding, scalar, softcap(root, "attn_logit_softcapping", file),
                softcap(root, "final_logit_softcapping", file));
    }

    private static java.util.List<Boolean> layerTypes(JsonNode root, int layers, Path file) {
        JsonNode types = root.get("layer_types");
        if (types == null || types.isNull()) {
            return GemmaConfig.Gemma2.alternatingLayers(layers);
        }
        if (!types.isArray() || types.size() != layers) {
            throw new CheckpointException(file + ": layer_types should be a list of " + layers
                    + " entries (num_hidden_layers), found " + types);
        }
        java.util.List<Boolean> sliding = new java.util.ArrayList<>();
        for (int i = 0; i < layers; i++) {
            String t = types.get(i).asText("");
            if (SLIDING_ATTENTION.equals(t)) {
                sliding.add(true);
            } else if (FULL_ATTENTION.equals(t)) {
                sliding.add(false);
            } else {
                throw new CheckpointException(file + ": layer_types[" + i + "] is " + types.get(i)
                        + ", which the Gemma 2 graph does not implement (it mixes \"" + SLIDING_ATTENTION
                        + "\" and \"" + FULL_ATTENTION + "\" layers only)");
            }
        }
        return sliding;
    }

    /** A soft-cap: the field must be present; null (none) or a positive number. Returns 0 for none. */
    private static double softcap(JsonNode root, String field, Path file) {
        if (!root.has(field)) {
            throw missing(file, field, "a positive number, or null for no soft-capping");
        }
        JsonNode n = root.get(field);
        return n.isNull() ? 0 : positiveNumber(n, field, file);
    }

    private static CheckpointException missing(Path file, String field, String what) {
        return new CheckpointException(file + ": Gemma 2 config is missing required field " + field + " (" + what + ")");
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
