package org.refusallab.engine.graph;

import java.util.HashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.array.SingleThreadArrayHolder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.refusallab.checkpoint.GemmaConfig;

/**
 * Gemma 1 (the gemma-2b-it architecture) and Gemma 2 as SameDiff graphs, one per segment: the embedding, each transformer
 * block, and the head (final norm and tied unembedding). Segments are run one after another by
 * {@link GemmaSegments}. One graph for the whole model would be simpler, but SameDiff M2.1's execution bookkeeping
 * grows quadratically with the number of ops (measured: a 6-layer training step never finished), while a block is
 * about 40 ops.
 *
 * <p>Every TransformerLens hook point is an identity op named by its hook name, so {@link HookListener} can cache
 * or edit it during one call. Segment inputs are placeholders: {@link #RESID_IN} [batch, pos, d_model],
 * {@link #ROPE_COS}/{@link #ROPE_SIN} [batch, pos, 1, d_head] (gathered per position id in Java),
 * {@link #ATTENTION_BIAS} [batch, 1, pos, pos] (0 where a query may attend a key, -1e9 elsewhere: causal and
 * padding together). Trainable segments add {@link #UPSTREAM_GRAD} and a loss sum(out * upstream), whose
 * gradient is the vector-Jacobian product that chains the segments in backpropagation.
 *
 * <p>Gemma 2 ({@link GemmaConfig#isGemma2()}) adds, as transformers' Gemma2DecoderLayer: scores scaled by
 * query_pre_attn_scalar^-0.5 and soft-capped before the bias; a sliding window on local layers (built in the graph
 * from the bias, see {@link Gemma2Ops}); RMSNorms on the attention and MLP outputs ({@code ln1_post} /
 * {@code ln2_post}, whose {@code hook_scale} are hooks, TransformerLens's names), so that {@code hook_attn_out} and
 * {@code hook_mlp_out} are what is added to the residual stream while {@code attn.hook_result} sums to the attention
 * output before its norm; the MLP's input norm is {@code pre_feedforward_layernorm}; final logits soft-capped.
 */
public final class GemmaGraph {

    public static final String INPUT_IDS = "input_ids", RESID_IN = "resid_in", ROPE_COS = "rope_cos", ROPE_SIN = "rope_sin",
            ATTENTION_BIAS = "attention_bias", LAST_INDEX = "last_index", LOGITS = "logits", LAST_LOGITS = "last_logits",
            LABELS = "labels", LOSS_MASK = "loss_mask", LOSS = "loss", UPSTREAM_GRAD = "upstream_grad", EMBED_OUT = "hook_embed",
            PAST_KEYS = "past_keys", PAST_VALUES = "past_values";

    /**
     * @param perHeadResult compute {@code attn.hook_result} [batch, pos, head, d_model] and sum it into
     *                      {@code hook_attn_out} (needed to cache or patch single heads); otherwise the output
     *                      projection is one GEMM on the concatenated heads.
     * @param trainable     weights are trainable variables and the segment has a vector-Jacobian loss.
     * @param pastKeys      cached decoding: the block's queries attend to the keys and values of earlier positions
     *                      given as {@link #PAST_KEYS} / {@link #PAST_VALUES} [batch, kv_head, slots, d_head] followed
     *                      by their own; {@link #ATTENTION_BIAS} is then [batch, 1, pos, slots + pos] and already
     *                      holds a local layer's sliding window (slot indices are not query distances).
     */
    public record Variant(boolean perHeadResult, boolean trainable, boolean pastKeys) {
        public Variant(boolean perHeadResult, boolean trainable) {
            this(perHeadResult, trainable, false);
        }
    }

    /** The keys after rotary [batch, pos, kv_head, d_head] (not a TransformerLens hook): what a key/value cache keeps. */
    public static String rotatedKeys(int layer) {
        return "blocks." + layer + ".attn.k_rotated";
    }

    private final GemmaConfig cfg;
    private final Map<String, INDArray> weights;
    private final Variant variant;
    private final SameDiff sd = SameDiff.create();
    private final Map<String, SDVariable> shapes = new HashMap<>();
    private SDVariable batchDim, posDim; // dynamic sizes, as [1] long vectors

    private GemmaGraph(GemmaConfig cfg, Map<String, INDArray> weights, Variant variant) {
        this.cfg = cfg;
        this.weights = weights;
        this.variant = variant;
        // Without these holders SameDiff copies every weight into the graph (2x memory for gemma-2b).
        sd.setArrayHolders(new SingleThreadArrayHolder(), new SingleThreadArrayHolder(), false);
    }

    /** input_ids [batch, pos] -> hook_embed [batch, pos, d_model]. */
    public static SameDiff embedding(GemmaConfig cfg, Map<String, INDArray> weights, Variant variant) {
        GemmaGraph g = new GemmaGraph(cfg, weights, variant);
        SDVariable ids = g.sd.placeHolder(INPUT_IDS, DataType.INT, -1, -1);
        SDVariable embed = g.weight("model.embed_tokens.weight");
        SDVariable rows;
        if (variant.trainable()) {
            // one_hot(ids) @ W_E: SameDiff M2.1 backpropagates gather through a while loop with one iteration per
            // token, whose bookkeeping grows quadratically (a 64 x 46 batch never finished); a matmul's gradient is one op.
            SDVariable idsShape = g.sd.castTo(g.sd.shape(ids), DataType.LONG);
            SDVariable oneHot = g.sd.reshape(g.sd.oneHot(ids, cfg.vocabSize(), -1, 1.0, 0.0, DataType.FLOAT), -1, cfg.vocabSize());
            rows = g.sd.reshape(g.sd.mmul(oneHot, embed), g.sd.concat(0, idsShape, g.sd.constant(Nd4j.createFromArray((long) cfg.hiddenSize()))));
        } else {
            rows = g.sd.gather(embed, ids, 0);
        }
        // Gemma scales embeddings by sqrt(d_model) rounded to the model dtype (float32 here).
        SDVariable x = rows.mul((double) (float) Math.sqrt(cfg.hiddenSize()));
        g.vjpLoss(g.hook(EMBED_OUT, x));
        return g.sd;
    }

    /** resid_in -> blocks.L.hook_resid_post, with every hook of block L. */
    public static SameDiff block(GemmaConfig cfg, Map<String, INDArray> weights, int layer, Variant variant) {
        GemmaGraph g = new GemmaGraph(cfg, weights, variant);
        g.vjpLoss(g.defineBlock(layer));
        return g.sd;
    }

    /** resid_in -> ln_final hooks -> logits [batch, pos, vocab] and last_logits [batch, vocab]; trainable: the loss. */
    public static SameDiff head(GemmaConfig cfg, Map<String, INDArray> weights, Variant variant) {
        GemmaGraph g = new GemmaGraph(cfg, weights, variant);
        g.defineHead();
        return g.sd;
    }

    public static String blockOutput(int layer) {
        return "blocks." + layer + ".hook_resid_post";
    }

    private SDVariable weight(String name) {
        INDArray w = weights.get(name);
        if (w == null) throw new IllegalArgumentException("weight " + name + " missing");
        return variant.trainable() ? sd.var(name, w) : sd.constant(name, w);
    }

    private SDVariable hook(String name, SDVariable x) {
        return sd.identity(name, x);
    }

    private SDVariable residIn() {
        // Trainable segments take their input as a variable (set before each pass): SameDiff M2.1 computes no
        // gradient with respect to a placeholder, and backpropagation needs d loss / d input.
        SDVariable x = variant.trainable() ? sd.var(RESID_IN, Nd4j.zeros(DataType.FLOAT, 1, 1, cfg.hiddenSize()))
                : sd.placeHolder(RESID_IN, DataType.FLOAT, -1, -1, cfg.hiddenSize());
        SDVariable xShape = sd.castTo(sd.shape(x), DataType.LONG);
        batchDim = sd.stridedSlice(xShape, new long[] {0}, new long[] {1}, 1);
        posDim = sd.stridedSlice(xShape, new long[] {1}, new long[] {2}, 1);
        return x;
    }

    /** A dynamic shape (batch, pos, trailing...); one op per distinct shape. */
    private SDVariable shape(long... trailing) {
        return shapes.computeIfAbsent(java.util.Arrays.toString(trailing),
                k -> sd.concat(0, batchDim, posDim, sd.constant(Nd4j.createFromArray(trailing))));
    }

    private SDVariable dims(SDVariable... parts) {
        return sd.concat(0, parts);
    }

    private SDVariable lit(long... values) {
        return sd.constant(Nd4j.createFromArray(values));
    }

    /** x [batch*pos, in] @ W^T for a checkpoint weight W [out, in], back to [batch, pos, trailing...]. */
    private SDVariable linear(SDVariable flat, String weightName, long... trailing) {
        return sd.reshape(sd.mmul(flat, weight(weightName), false, true, false), shape(trailing));
    }

    private SDVariable defineBlock(int layer) {
        int d = cfg.hiddenSize(), nH = cfg.numHeads(), nKv = cfg.numKvHeads(), dh = cfg.headDim(), dMlp = cfg.intermediateSize();
        if (nH % nKv != 0) throw new IllegalArgumentException("num_attention_heads " + nH + " not a multiple of num_key_value_heads " + nKv);
        String p = "model.layers." + layer + ".";
        String h = "blocks." + layer + ".";
        SDVariable resid = hook(h + "hook_resid_pre", residIn()); // [batch, pos, d]
        SDVariable cos = sd.placeHolder(ROPE_COS, DataType.FLOAT, -1, -1, 1, dh); // [batch, pos, 1, d_head]
        SDVariable sin = sd.placeHolder(ROPE_SIN, DataType.FLOAT, -1, -1, 1, dh);
        SDVariable bias = sd.placeHolder(ATTENTION_BIAS, DataType.FLOAT, -1, 1, -1, -1);
        SDVariable rotateHalf = sd.constant("rope_rotate_half", rotateHalfMatrix(dh)); // x @ R = cat(-x2, x1)

        // --- attention ---
        SDVariable normed = sd.reshape(rmsNorm(resid, p + "input_layernorm.weight", h + "ln1.hook_scale"), -1, d); // [batch*pos, d]
        SDVariable q = hook(h + "attn.hook_q", linear(normed, p + "self_attn.q_proj.weight", nH, dh)); // [batch, pos, head, d_head]
        SDVariable k = hook(h + "attn.hook_k", linear(normed, p + "self_attn.k_proj.weight", nKv, dh)); // [batch, pos, kv_head, d_head]
        SDVariable v = hook(h + "attn.hook_v", linear(normed, p + "self_attn.v_proj.weight", nKv, dh));
        q = rotary(q, cos, sin, rotateHalf, dh);
        k = rotary(k, cos, sin, rotateHalf, dh).rename(rotatedKeys(layer));
        // Query heads sharing a key/value head go into the rows of one matmul: [batch, kv, group*pos, d_head]
        // (SameDiff's matmul does not broadcast one kv head over several query heads).
        SDVariable qg = sd.reshape(sd.permute(q, 0, 2, 1, 3), dims(batchDim, lit(nKv, -1L, dh)));
        SDVariable kt = headsFirst(k, nKv, dh); // [batch, kv, pos, d_head]
        SDVariable vt = headsFirst(v, nKv, dh);
        SDVariable keysDim = posDim;
        if (variant.pastKeys()) { // earlier positions' keys and values first, then this call's: [batch, kv, slots + pos, d_head]
            kt = sd.concat(2, sd.placeHolder(PAST_KEYS, DataType.FLOAT, -1, nKv, -1, dh), kt);
            vt = sd.concat(2, sd.placeHolder(PAST_VALUES, DataType.FLOAT, -1, nKv, -1, dh), vt);
            keysDim = sd.stridedSlice(sd.castTo(sd.shape(kt), DataType.LONG), new long[] {2}, new long[] {3}, 1);
        }
        SDVariable scores = sd.reshape(sd.mmul(qg, kt, false, true, false).mul(cfg.attentionScale()), dims(batchDim, lit(nH), posDim, keysDim));
        if (cfg.isGemma2() && cfg.gemma2().attnLogitSoftcap() > 0) scores = Gemma2Ops.softcap(sd, scores, cfg.gemma2().attnLogitSoftcap());
        if (cfg.isSlidingLayer(layer) && !variant.pastKeys()) bias = Gemma2Ops.slidingWindowBias(sd, bias, cfg.gemma2().slidingWindow());
        scores = hook(h + "attn.hook_attn_scores", scores.add(bias)); // [batch, head, query, key]
        SDVariable pattern = hook(h + "attn.hook_pattern", sd.nn().softmax(scores, 3));
        SDVariable pg = sd.reshape(pattern, dims(batchDim, lit(nKv, -1L), keysDim)); // [batch, kv, group*query, key]
        SDVariable z = sd.reshape(sd.mmul(pg, vt), dims(batchDim, lit(nH), posDim, lit(dh)));
        z = hook(h + "attn.hook_z", sd.permute(z, 0, 2, 1, 3)); // [batch, pos, head, d_head]
        SDVariable wO = weight(p + "self_attn.o_proj.weight"); // [d, head*d_head]
        SDVariable attnOut;
        if (variant.perHeadResult()) {
            // result[b, s, h, :] = z[b, s, h, :] @ W_O[:, h*dh:(h+1)*dh]^T, one batched matmul over heads.
            SDVariable wOh = sd.permute(sd.reshape(wO, d, nH, dh), 1, 2, 0); // [head, d_head, d]
            SDVariable zh = sd.reshape(sd.permute(z, 2, 0, 1, 3), nH, -1, dh); // [head, batch*pos, d_head]
            SDVariable res = sd.reshape(sd.mmul(zh, wOh), dims(lit(nH), batchDim, posDim, lit(d)));
            res = hook(h + "attn.hook_result", sd.permute(res, 1, 2, 0, 3)); // [batch, pos, head, d]
            attnOut = sd.sum(res, false, 2);
        } else {
            attnOut = sd.reshape(sd.mmul(sd.reshape(z, -1, (long) nH * dh), wO, false, true, false), shape(d));
        }
        if (cfg.isGemma2()) attnOut = rmsNorm(attnOut, p + "post_attention_layernorm.weight", h + "ln1_post.hook_scale");
        attnOut = hook(h + "hook_attn_out", attnOut);
        SDVariable mid = hook(h + "hook_resid_mid", resid.add(attnOut));

        // --- MLP (GeGLU) ---
        // The norm before the MLP: Gemma 1 calls it post_attention_layernorm, Gemma 2 pre_feedforward_layernorm.
        String ln2 = p + (cfg.isGemma2() ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight");
        SDVariable normed2 = sd.reshape(rmsNorm(mid, ln2, h + "ln2.hook_scale"), -1, d);
        SDVariable gate = hook(h + "mlp.hook_pre", linear(normed2, p + "mlp.gate_proj.weight", dMlp));
        SDVariable up = linear(normed2, p + "mlp.up_proj.weight", dMlp);
        SDVariable post = hook(h + "mlp.hook_post", gelu(gate).mul(up)); // [batch, pos, d_mlp]
        SDVariable mlpOut = linear(sd.reshape(post, -1, dMlp), p + "mlp.down_proj.weight", d);
        if (cfg.isGemma2()) mlpOut = rmsNorm(mlpOut, p + "post_feedforward_layernorm.weight", h + "ln2_post.hook_scale");
        mlpOut = hook(h + "hook_mlp_out", mlpOut);
        return hook(blockOutput(layer), mid.add(mlpOut));
    }

    private void defineHead() {
        int d = cfg.hiddenSize();
        SDVariable x = residIn();
        SDVariable lastIndex = sd.placeHolder(LAST_INDEX, DataType.INT, 1);
        SDVariable scale = hook("ln_final.hook_scale", sd.math().sqrt(sd.mean(x.mul(x), true, 2).add(cfg.rmsNormEps())));
        SDVariable normalized = hook("ln_final.hook_normalized", x.div(scale).mul(weight("model.norm.weight").add(1.0)));
        SDVariable embed = weight("model.embed_tokens.weight"); // tied unembedding: logits = h . W_E^T
        double cap = cfg.isGemma2() ? cfg.gemma2().finalLogitSoftcap() : 0;
        SDVariable logits = sd.reshape(cap > 0 ? null : LOGITS, sd.mmul(sd.reshape(normalized, -1, d), embed, false, true, false), shape(cfg.vocabSize()));
        SDVariable last = sd.squeeze(sd.gather(normalized, lastIndex, 1), 1); // [batch, d]
        SDVariable lastLogits = sd.mmul(cap > 0 ? null : LAST_LOGITS, last, embed, false, true, false);
        if (cap > 0) { // Gemma 2's final soft-cap
            logits = sd.identity(LOGITS, Gemma2Ops.softcap(sd, logits, cap));
            sd.identity(LAST_LOGITS, Gemma2Ops.softcap(sd, lastLogits, cap));
        }
        if (variant.trainable()) {
            // Masked mean next-token cross-entropy. log-softmax from basic ops: SameDiff M2.1 cannot clone its
            // LogSoftMax op when it builds the gradient graph.
            SDVariable labels = sd.placeHolder(LABELS, DataType.INT, -1, -1);
            SDVariable mask = sd.placeHolder(LOSS_MASK, DataType.FLOAT, -1, -1);
            SDVariable shifted = logits.sub(sd.max(logits, true, 2));
            SDVariable logProbs = shifted.sub(sd.math().log(sd.sum(sd.math().exp(shifted), true, 2))); // [batch, pos, vocab]
            SDVariable oneHot = sd.oneHot(labels, cfg.vocabSize(), -1, 1.0, 0.0, DataType.FLOAT);
            SDVariable nll = sd.sum(logProbs.mul(oneHot), false, 2).neg(); // [batch, pos]
            sd.sum(nll.mul(mask)).div(sd.sum(mask)).rename(LOSS);
            sd.setLossVariables(LOSS);
        }
    }

    /** Trainable segments: loss = sum(out * upstream), so d loss / d inputs is the upstream gradient pulled back. */
    private void vjpLoss(SDVariable out) {
        if (!variant.trainable()) return;
        SDVariable upstream = sd.placeHolder(UPSTREAM_GRAD, DataType.FLOAT, -1, -1, cfg.hiddenSize());
        sd.sum(out.mul(upstream)).rename(LOSS);
        sd.setLossVariables(LOSS);
    }

    /**
     * [batch, pos, kv, d_head] -> [batch, kv, pos, d_head]. With one key/value head (gemma-2b) that is a reshape, so
     * the attention matmuls get a contiguous array: libnd4j's batched matmul on the permuted view took ~5x longer.
     */
    private SDVariable headsFirst(SDVariable x, int heads, int dh) {
        return heads == 1 ? sd.reshape(x, dims(batchDim, lit(1), posDim, lit(dh))) : sd.permute(x, 0, 2, 1, 3);
    }

    /** x / sqrt(mean(x^2) + eps) * (1 + w); the scale sqrt(mean(x^2) + eps) is the TransformerLens hook. */
    private SDVariable rmsNorm(SDVariable x, String weightName, String scaleHook) {
        SDVariable scale = hook(scaleHook, sd.math().sqrt(sd.mean(x.mul(x), true, 2).add(cfg.rmsNormEps()))); // [batch, pos, 1]
        return x.div(scale).mul(weight(weightName).add(1.0));
    }

    /** Rotate-half rotary embedding: x cos + rotate_half(x) sin, with rotate_half a fixed ±1 permutation matrix. */
    private SDVariable rotary(SDVariable x, SDVariable cos, SDVariable sin, SDVariable rotateHalf, int dh) {
        SDVariable rotated = sd.reshape(sd.mmul(sd.reshape(x, -1, dh), rotateHalf), sd.shape(x));
        return x.mul(cos).add(rotated.mul(sin));
    }

    private SDVariable gelu(SDVariable x) {
        if (cfg.gelu() == GemmaConfig.Gelu.EXACT) {
            return x.mul(0.5).mul(sd.math().erf(x.mul(1.0 / Math.sqrt(2.0))).add(1.0));
        }
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) = x sigmoid(x (a + b x^2)) with a = 2 sqrt(2/pi),
        // b = 0.044715 a, since 0.5 (1 + tanh(z)) = sigmoid(2z): 6 passes over [batch, pos, d_mlp] instead of 9.
        // Built from basic ops: libnd4j's gelu ops are other formulas (its "precise" one is off by up to 0.03).
        double a = 2.0 * Math.sqrt(2.0 / Math.PI);
        SDVariable inner = x.mul(x).mul(0.044715 * a).add(a).mul(x);
        return x.mul(sd.nn().sigmoid(inner));
    }

    /** cos and sin of position * inv_freq [max_pos, d_head] (halves duplicated), as transformers computes them in float32. */
    public static INDArray[] rotaryTables(int maxPos, int dh, double theta) {
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
