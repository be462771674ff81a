package org.refusallab.testkit;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.refusallab.checkpoint.GemmaConfig;

/** Small random Gemma 1 models for hand-made cases: grouped-query attention (4 query heads on 2 kv heads), random norm weights. */
final class RandomGemma {

    static final GemmaConfig CONFIG = new GemmaConfig("gemma", 40, 16, 32, 2, 4, 2, 8, 1e-6, 10000.0,
            GemmaConfig.Gelu.EXACT, "float32", 2, 1, 0, 64);

    private RandomGemma() {
    }

    static Map<String, float[]> weights(long seed) {
        GemmaConfig c = CONFIG;
        Random rnd = new Random(seed);
        Map<String, float[]> w = new LinkedHashMap<>();
        int d = c.hiddenSize(), q = c.numHeads() * c.headDim(), kv = c.numKvHeads() * c.headDim(), mlp = c.intermediateSize();
        w.put("model.embed_tokens.weight", gaussian(rnd, c.vocabSize() * d, 0.5));
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            w.put(p + "input_layernorm.weight", gaussian(rnd, d, 0.3));
            w.put(p + "self_attn.q_proj.weight", gaussian(rnd, q * d, 0.4));
            w.put(p + "self_attn.k_proj.weight", gaussian(rnd, kv * d, 0.4));
            w.put(p + "self_attn.v_proj.weight", gaussian(rnd, kv * d, 0.3));
            w.put(p + "self_attn.o_proj.weight", gaussian(rnd, d * q, 1.0));
            w.put(p + "post_attention_layernorm.weight", gaussian(rnd, d, 0.3));
            w.put(p + "mlp.gate_proj.weight", gaussian(rnd, mlp * d, 0.3));
            w.put(p + "mlp.up_proj.weight", gaussian(rnd, mlp * d, 0.3));
            w.put(p + "mlp.down_proj.weight", gaussian(rnd, d * mlp, 1.0));
        }
        w.put("model.norm.weight", gaussian(rnd, d, 0.3));
        return w;
    }

    static GemmaReference model(long seed) {
        return new GemmaReference(CONFIG, weights(seed));
    }

    static float[] gaussian(Random rnd, int n, double sigma) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextGaussian() * sigma);
        return v;
    }
}
