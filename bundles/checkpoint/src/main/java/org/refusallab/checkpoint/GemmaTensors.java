package org.refusallab.checkpoint;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The Hugging Face tensor names of a GemmaForCausalLM or Gemma2ForCausalLM checkpoint and the shapes config.json
 * implies. Beware the norm names: in Gemma 1, {@code post_attention_layernorm} is the norm BEFORE the MLP; in Gemma 2
 * it is the norm applied to the attention output, and {@code pre_feedforward_layernorm} is the one before the MLP.
 * Linear layers are stored [out, in], as PyTorch's nn.Linear keeps them. The embedding is tied: there is no
 * lm_head.weight (if one is stored with the embedding's shape, the loader ignores it).
 */
public final class GemmaTensors {

    public static final String EMBED = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";

    private GemmaTensors() {
    }

    public static String inputLayernorm(int layer) {
        return "model.layers." + layer + ".input_layernorm.weight";
    }

    public static String postAttentionLayernorm(int layer) {
        return "model.layers." + layer + ".post_attention_layernorm.weight";
    }

    /** Gemma 2 only: the norm before the MLP. */
    public static String preFeedforwardLayernorm(int layer) {
        return "model.layers." + layer + ".pre_feedforward_layernorm.weight";
    }

    /** Gemma 2 only: the norm applied to the MLP's output before it is added to the residual stream. */
    public static String postFeedforwardLayernorm(int layer) {
        return "model.layers." + layer + ".post_feedforward_layernorm.weight";
    }

    public static String qProj(int layer) {
        return "model.layers." + layer + ".self_attn.q_proj.weight";
    }

    public static String kProj(int layer) {
        return "model.layers." + layer + ".self_attn.k_proj.weight";
    }

    public static String vProj(int layer) {
        return "model.layers." + layer + ".self_attn.v_proj.weight";
    }

    public static String oProj(int layer) {
        return "model.layers." + layer + ".self_attn.o_proj.weight";
    }

    public static String gateProj(int layer) {
        return "model.layers." + layer + ".mlp.gate_proj.weight";
    }

    public static String upProj(int layer) {
        return "model.layers." + layer + ".mlp.up_proj.weight";
    }

    public static String downProj(int layer) {
        return "model.layers." + layer + ".mlp.down_proj.weight";
    }

    /** Bytes held by these arrays (the engine keeps weights in float32, whatever the checkpoint stored). */
    public static long totalBytes(Map<String, INDArray> weights) {
        return weights.values().stream().mapToLong(w -> w.length() * w.dataType().width()).sum();
    }

    /** Every tensor a checkpoint for {@code config} must hold, in model order, with its stored shape. */
    public static Map<String, long[]> expectedShapes(GemmaConfig config) {
        long d = config.hiddenSize();
        long q = (long) config.numHeads() * config.headDim();
        long kv = (long) config.numKvHeads() * config.headDim();
        long mlp = config.intermediateSize();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(EMBED, new long[] {config.vocabSize(), d});
        for (int i = 0; i < config.numLayers(); i++) {
            shapes.put(inputLayernorm(i), new long[] {d});
            shapes.put(qProj(i), new long[] {q, d});
            shapes.put(kProj(i), new long[] {kv, d});
            shapes.put(vProj(i), new long[] {kv, d});
            shapes.put(oProj(i), new long[] {d, q});
            shapes.put(postAttentionLayernorm(i), new long[] {d});
            if (config.isGemma2()) {
                shapes.put(preFeedforwardLayernorm(i), new long[] {d});
            }
            shapes.put(gateProj(i), new long[] {mlp, d});
            shapes.put(upProj(i), new long[] {mlp, d});
            shapes.put(downProj(i), new long[] {d, mlp});
            if (config.isGemma2()) {
                shapes.put(postFeedforwardLayernorm(i), new long[] {d});
            }
        }
        shapes.put(FINAL_NORM, new long[] {d});
        return Collections.unmodifiableMap(shapes);
    }
}
