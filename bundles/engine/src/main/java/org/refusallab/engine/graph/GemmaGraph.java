package org.refusallab.engine.graph;

import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.array.SingleThreadArrayHolder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.refusallab.checkpoint.GemmaConfig;

/**
 * Gemma 1 (the gemma-2b-it architecture) as a SameDiff graph. Every TransformerLens hook point is an identity op
 * named by its hook name, so {@link HookListener} can cache or edit it during one call.
 *
 * <p>Placeholders: {@code input_ids} [batch, pos] int, {@code position_ids} [batch, pos] int,
 * {@code attention_bias} [batch, 1, pos, pos] float (0 where a query may attend a key, -1e9 elsewhere: causal and
 * padding together, built in Java), {@code last_index} [1] int (the last position). Outputs: {@code logits}
 * [batch, pos, vocab] and {@code last_logits} [batch, vocab] (only what is asked for is computed).
 */
public final class GemmaGraph {

    /** Placeholder and output names. */
    public static final String INPUT_IDS = "input_ids", POSITION_IDS = "position_ids", ATTENTION_BIAS = "attention_bias",
            LAST_INDEX = "last_index", LOGITS = "logits", LAST_LOGITS = "last_logits",
            LABELS = "labels", LOSS_MASK = "loss_mask", LOSS = "loss";

    /**
     * @param perHeadResult compute {@code attn.hook_result} [batch, pos, head, d_model] and sum it into
     *                      {@code hook_attn_out} (needed to cache or patch single heads); otherwise the output
     *                      projection is one GEMM on the concatenated heads (faster, same values up to rounding).
     * @param trainable     weights become trainable variables (training) instead of constants (inference).
     */
    public record Variant(boolean perHeadResult, boolean trainable) { }

    private final GemmaConfig cfg;
    private final SameDiff sd;
    private final Variant variant;
    private SDVariable batchDim, posDim; // dynamic sizes, as [1] long vectors

    private GemmaGraph(GemmaConfig cfg, Variant variant) {
        this.cfg = cfg;
        this.variant = variant;
        this.sd = SameDiff.create();
        // Without these holders SameDiff copies every weight into the graph (2x memory for gemma-2b).
        sd.setArrayHolders(new SingleThreadArrayHolder(), new SingleThreadArrayHolder(), false);
    }

    public static SameDiff build(GemmaConfig cfg, Map<String, INDArray> weights, Variant variant) {
        return new GemmaGraph(cfg, variant).define(weights);
    }

    private SDVariable weight(String name, Map<String, INDArray> weights) {
        INDArray w = weights.get(name);
        if (w == null) throw new IllegalArgumentException("weight " + name + " missing");
        return variant.trainable() ? sd.var(name, w) : sd.constant(name, w);
    }

    private SDVariable hook(String name, SDVariable x) {
        return sd.identity(name, x);
    }

    /** A dynamic shape [batch, pos, trailing...]. */
    private SDVariable shape(long... trailing) {
        return sd.concat(0, batchDim, posDim, sd.constant(Nd4j.createFromArray(trailing)));
    }

    private SameDiff define(Map<String, INDArray> weights) {
        int d = cfg.hiddenSize(), nH = cfg.numHeads(), nKv = cfg.numKvHeads(), dh = cfg.headDim(), dMlp = cfg.intermediateSize();
        if (nH % nKv != 0) throw new IllegalArgumentException("num_attention_heads " + nH + " not a multiple of num_key_value_heads " + nKv);
        int group = nH / nKv;

        SDVariable ids = sd.placeHolder(INPUT_IDS, DataType.INT, -1, -1);
        SDVariable posIds = sd.placeHolder(POSITION_IDS, DataType.INT, -1, -1);
        SDVariable bias = sd.placeHolder(ATTENTION_BIAS, DataType.FLOAT, -1, 1, -1, -1);
        SDVariable lastIndex = sd.placeHolder(LAST_INDEX, DataType.INT, 1);
        SDVariable idsShape = sd.castTo(sd.shape(ids), DataType.LONG);
        batchDim = sd.stridedSlice(idsShape, new long[] {0}, new long[] {1}, 1);
        posDim = sd.stridedSlice(idsShape, new long[] {1}, new long[] {2}, 1);

        SDVariable embed = weight("model.embed_tokens.weight", weights); // [vocab, d]
        // Gemma scales embeddings by sqrt(d_model) rounded to the model dtype (float32 here).
        SDVariable x = sd.gather(embed, ids, 0).mul((double) (float) Math.sqrt(d)); // [batch, pos, d]
        x = hook("hook_embed", x);

        // Rotary tables [max_pos, d_head] (halves duplicated, rotate-half convention); gathered per position id.
        INDArray[] tables = rotaryTables(cfg.maxPositionEmbeddings(), dh, cfg.ropeTheta());
        SDVariable cos = sd.expandDims(sd.gather(sd.constant("rope_cos", tables[0]), posIds, 0), 2); // [batch, pos, 1, d_head]
        SDVariable sin = sd.expandDims(sd.gather(sd.constant("rope_sin", tables[1]), posIds, 0), 2);
        SDVariable rotateHalf = sd.constant("rope_rotate_half", rotateHalfMatrix(dh)); // x @ R = cat(-x2, x1)
        double attnScale = 1.0 / Math.sqrt(dh);

        for (int layer = 0; layer < cfg.numLayers(); layer++) {
            String p = "model.layers." + layer + ".";
            String h = "blocks." + layer + ".";
            SDVariable resid = hook(h + "hook_resid_pre", x); // [batch, pos, d]

            // --- attention ---
            SDVariable normed = rmsNorm(resid, weights, p + "input_layernorm.weight", h + "ln1.hook_scale");
            SDVariable flat = sd.reshape(normed, -1, d); // [batch*pos, d]
            SDVariable q = hook(h + "attn.hook_q", sd.reshape(sd.mmul(flat, weight(p + "self_attn.q_proj.weight", weights), false, true, false), shape(nH, dh)));
            SDVariable k = hook(h + "attn.hook_k", sd.reshape(sd.mmul(flat, weight(p + "self_attn.k_proj.weight", weights), false, true, false), shape(nKv, dh)));
            SDVariable v = hook(h + "attn.hook_v", sd.reshape(sd.mmul(flat, weight(p + "self_attn.v_proj.weight", weights), false, true, false), shape(nKv, dh)));
            q = rotary(q, cos, sin, rotateHalf, dh); // [batch, pos, head, d_head]
            k = rotary(k, cos, sin, rotateHalf, dh); // [batch, pos, kv_head, d_head]

            // Query heads sharing a key/value head go into the rows of one matmul: [batch, kv, group*pos, d_head].
            SDVariable qg = sd.reshape(sd.permute(q, 0, 2, 1, 3), sd.concat(0, batchDim, sd.constant(Nd4j.createFromArray((long) nKv, -1L, dh))));
            SDVariable kt = sd.permute(k, 0, 2, 1, 3); // [batch, kv, pos, d_head]
            SDVariable vt = sd.permute(v, 0, 2, 1, 3);
            SDVariable scores = sd.mmul(qg, kt, false, true, false).mul(attnScale); // [batch, kv, group*pos, pos]
            SDVariable scores4 = sd.reshape(scores, sd.concat(0, batchDim, sd.constant(Nd4j.createFromArray((long) nH)), posDim, posDim));
            scores4 = hook(h + "attn.hook_attn_scores", scores4.add(bias)); // [batch, head, query, key]
            SDVariable pattern = hook(h + "attn.hook_pattern", sd.nn().softmax(scores4, 3));
            SDVariable pg = sd.reshape(pattern, sd.concat(0, batchDim, sd.constant(Nd4j.createFromArray((long) nKv, -1L)), posDim));
            SDVariable z = sd.reshape(sd.mmul(pg, vt), sd.concat(0, batchDim, sd.constant(Nd4j.createFromArray((long) nH)), posDim, sd.constant(Nd4j.createFromArray((long) dh))));
            z = hook(h + "attn.hook_z", sd.permute(z, 0, 2, 1, 3)); // [batch, pos, head, d_head]
            SDVariable wO = weight(p + "self_attn.o_proj.weight", weights); // [d, head*d_head]
            SDVariable attnOut;
            if (variant.perHeadResult()) {
                // result[b, s, h, :] = z[b, s, h, :] @ W_O[:, h*dh:(h+1)*dh]^T, one batched matmul over heads.
                SDVariable wOh = sd.permute(sd.reshape(wO, d, nH, dh), 1, 2, 0); // [head, d_head, d]
                SDVariable zh = sd.reshape(sd.permute(z, 2, 0, 1, 3), nH, -1, dh); // [head, batch*pos, d_head]
                SDVariable res = sd.reshape(sd.mmul(zh, wOh), sd.concat(0, sd.constant(Nd4j.createFromArray((long) nH)), batchDim, posDim, sd.constant(Nd4j.createFromArray((long) d))));
                res = hook(h + "attn.hook_result", sd.permute(res, 1, 2, 0, 3)); // [batch, pos, head, d]
                attnOut = sd.sum(res, false, 2);
            } else {
                attnOut = sd.reshape(sd.mmul(sd.reshape(z, -1, (long) nH * dh), wO, false, true, false), shape(d));
            }
            attnOut = hook(h + "hook_attn_out", attnOut);
            SDVariable mid = hook(h + "hook_resid_mid", resid.add(attnOut));

            // --- MLP (GeGLU) ---
            SDVariable normed2 = sd.reshape(rmsNorm(mid, weights, p + "post_attention_layernorm.weight", h + "ln2.hook_scale"), -1, d);
            SDVariable gate = hook(h + "mlp.hook_pre", sd.reshape(sd.mmul(normed2, weight(p + "mlp.gate_proj.weight", weights), false, true, false), shape(dMlp)));
            SDVariable up = sd.reshape(sd.mmul(normed2, weight(p + "mlp.up_proj.weight", weights), false, true, false), shape(dMlp));
            SDVariable post = hook(h + "mlp.hook_post", gelu(gate).mul(up)); // [batch, pos, d_mlp]
            SDVariable mlpOut = hook(h + "hook_mlp_out", sd.reshape(sd.mmul(sd.reshape(post, -1, dMlp), weight(p + "mlp.down_proj.weight", weights), false, true, false), shape(d)));
            x = hook(h + "hook_resid_post", mid.add(mlpOut));
        }

        SDVariable scale = hook("ln_final.hook_scale", sd.math().sqrt(sd.mean(sd.math().square(x), true, 2).add(cfg.rmsNormEps())));
        SDVariable normalized = hook("ln_final.hook_normalized", x.div(scale).mul(onePlus(weights, "model.norm.weight")));
        // Tied unembedding: logits = h . W_E^T.
        sd.reshape(LOGITS, sd.mmul(sd.reshape(normalized, -1, d), embed, false, true, false), shape(cfg.vocabSize()));
        SDVariable last = sd.squeeze(sd.gather(normalized, lastIndex, 1), 1); // [batch, d]
        sd.mmul(LAST_LOGITS, last, embed, false, true, false);

        if (variant.trainable()) defineLoss();
        return sd;
    }

    /** Masked mean next-token cross-entropy; {@code labels} [batch, pos] int, {@code loss_mask} [batch, pos] float. */
    private void defineLoss() {
        SDVariable logits = sd.getVariable(LOGITS);
        SDVariable labels = sd.placeHolder(LABELS, DataType.INT, -1, -1);
        SDVariable mask = sd.placeHolder(LOSS_MASK, DataType.FLOAT, -1, -1);
        // log-softmax from basic ops: SameDiff M2.1 cannot clone its LogSoftMax op when it builds the gradient graph.
        SDVariable shifted = logits.sub(sd.max(logits, true, 2));
        SDVariable logProbs = shifted.sub(sd.math().log(sd.sum(sd.math().exp(shifted), true, 2))); // [batch, pos, vocab]
        SDVariable oneHot = sd.oneHot(labels, cfg.vocabSize(), -1, 1.0, 0.0, DataType.FLOAT);
        SDVariable nll = sd.sum(logProbs.mul(oneHot), false, 2).neg(); // [batch, pos]
        sd.sum(nll.mul(mask)).div(sd.sum(mask)).rename(LOSS);
        sd.setLossVariables(LOSS);
    }

    /** x / sqrt(mean(x^2) + eps) * (1 + w); the scale sqrt(mean(x^2) + eps) is the TransformerLens hook. */
    private SDVariable rmsNorm(SDVariable x, Map<String, INDArray> weights, String weightName, String scaleHook) {
        SDVariable scale = hook(scaleHook, sd.math().sqrt(sd.mean(sd.math().square(x), true, 2).add(cfg.rmsNormEps()))); // [batch, pos, 1]
        return x.div(scale).mul(onePlus(weights, weightName));
    }

    private SDVariable onePlus(Map<String, INDArray> weights, String name) {
        return weight(name, weights).add(1.0);
    }

    private SDVariable rotary(SDVariable x, SDVariable cos, SDVariable sin, SDVariable rotateHalf, int dh) {
        SDVariable rotated = sd.reshape(sd.mmul(sd.reshape(x, -1, dh), rotateHalf), sd.shape(x));
        return x.mul(cos).add(rotated.mul(sin));
    }

    private SDVariable gelu(SDVariable x) {
        if (cfg.gelu() == GemmaConfig.Gelu.EXACT) {
            return x.mul(0.5).mul(sd.math().erf(x.mul(1.0 / Math.sqrt(2.0))).add(1.0));
        }
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), built from basic ops: SameDiff's gelu ops are other formulas.
        SDVariable inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2.0 / Math.PI));
        return x.mul(0.5).mul(sd.math().tanh(inner).add(1.0));
    }

    /** cos and sin of position * inv_freq, as transformers computes them in float32. */
    static INDArray[] rotaryTables(int maxPos, int dh, double theta) {
        int half = dh / 2;
        float[] invFreq = new float[half];
        for (int i = 0; i < half; i++) invFreq[i] = (float) (1.0 / Math.pow(theta, (2.0 * i) / dh));
        float[][] cos = new float[maxPos][dh], sin = new float[maxPos][dh];
        for (int p = 0; p < maxPos; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * invFreq[i];
                cos[p][i] = cos[p][i + half] = (float) Math.cos(angle);
                sin[p][i] = sin[p][i + half] = (float) Math.sin(angle);
            }
        }
        return new INDArray[] {Nd4j.createFromArray(cos), Nd4j.createFromArray(sin)};
    }

    static INDArray rotateHalfMatrix(int dh) {
        int half = dh / 2;
        float[][] r = new float[dh][dh];
        for (int i = 0; i < half; i++) {
            r[i + half][i] = -1f; // out[i] = -x[i + half]
            r[i][i + half] = 1f;  // out[i + half] = x[i]
        }
        return Nd4j.createFromArray(r);
    }
}
