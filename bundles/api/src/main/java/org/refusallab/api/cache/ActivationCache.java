package org.refusallab.api.cache;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Tensor;

/**
 * The activations of one sequence by hook name, without padding ({@code [pos, ...]}), with the helpers analyses
 * keep needing (TransformerLens's ActivationCache): the residual decomposed into labelled components, stacked
 * per-head results, the cached final-norm scale. Positions are the sequence's own; negative = from the end.
 */
public final class ActivationCache {

    private final Map<String, Tensor> byHook;
    private final int nLayers;

    public ActivationCache(Map<String, Tensor> byHook, int nLayers) {
        this.byHook = Map.copyOf(byHook);
        this.nLayers = nLayers;
    }

    /** Row {@code row} of a forward's cache, its left padding cut off (hooks with a position axis at 1). */
    public static ActivationCache of(ForwardResult result, int row, int nLayers) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        int padding = result.padding()[row];
        for (var e : result.cache().entrySet()) {
            Tensor t = e.getValue();
            if (Hooks.perHead(e.getKey()) && (e.getKey().endsWith("hook_pattern") || e.getKey().endsWith("hook_attn_scores"))) continue;
            Tensor r = t.slice(row); // [pos, ...]
            long[] shape = r.shape().clone();
            int width = 1;
            for (int a = 1; a < shape.length; a++) width *= (int) shape[a];
            shape[0] -= padding;
            float[] data = java.util.Arrays.copyOfRange(r.data(), padding * width, r.data().length);
            out.put(e.getKey(), new Tensor(shape, data));
        }
        return new ActivationCache(out, nLayers);
    }

    /** The hooks {@link #decompose} needs: the embedding and every block's attention and MLP outputs. */
    public static List<String> decomposeHooks() {
        return List.of(Hooks.EMBED, Hooks.everyLayer("hook_attn_out"), Hooks.everyLayer("hook_mlp_out"));
    }

    public Tensor get(String hook) {
        Tensor t = byHook.get(hook);
        if (t == null) throw new NoSuchElementException("hook " + hook + " was not cached; cached: " + byHook.keySet());
        return t;
    }

    public int length() {
        return byHook.values().iterator().next().dim(0);
    }

    /** The trailing vector of a hook at a position (flattened over heads for per-head hooks). */
    public float[] at(String hook, int position) {
        Tensor t = get(hook);
        return t.row(index(position, t.dim(0)));
    }

    /**
     * The residual stream entering block {@code layer} ({@code nLayers} = after the last block) at a position,
     * decomposed: "embed", then "L0 attn", "L0 mlp", ... up to the block before {@code layer}. The components sum
     * to {@code blocks.layer.hook_resid_pre}.
     */
    public ResidualStack decompose(int layer, int position) {
        if (layer < 0 || layer > nLayers) throw new IllegalArgumentException("layer " + layer + " outside 0.." + nLayers);
        List<String> labels = new ArrayList<>();
        List<float[]> vs = new ArrayList<>();
        labels.add("embed");
        vs.add(at(Hooks.EMBED, position));
        for (int l = 0; l < layer; l++) {
            labels.add("L" + l + " attn");
            vs.add(at(Hooks.attnOut(l), position));
            labels.add("L" + l + " mlp");
            vs.add(at(Hooks.mlpOut(l), position));
        }
        return new ResidualStack(labels, vs.toArray(new float[0][]));
    }

    /** Every head's result of a layer at a position, labelled "L8H0" ...: {@code attn.hook_result} stacked. */
    public ResidualStack headResults(int layer, int position) {
        Tensor t = get(Hooks.attnResult(layer)); // [pos, head, d_model]
        int p = index(position, t.dim(0));
        List<String> labels = new ArrayList<>();
        float[][] vs = new float[t.dim(1)][];
        for (int h = 0; h < vs.length; h++) {
            labels.add("L" + layer + "H" + h);
            vs[h] = t.row(p, h);
        }
        return new ResidualStack(labels, vs);
    }

    /**
     * Every head's share of {@code hook_attn_out} at a position, labelled as {@link #headResults}: on a model without
     * post-norms ({@code postAttentionNormWeight == null}) the results themselves; on Gemma 2 each result through the
     * post-attention norm with its scale frozen at the run's value, {@code result / ln1_post.hook_scale * (1 + w)}
     * (the cache must hold {@code Hooks.ln1PostScale(layer)}). Either way they sum to {@code hook_attn_out}.
     *
     * @since 1.1
     */
    public ResidualStack headContributions(int layer, int position, float[] postAttentionNormWeight) {
        ResidualStack results = headResults(layer, position);
        if (postAttentionNormWeight == null) return results;
        return results.applyNorm(at(Hooks.ln1PostScale(layer), position)[0], postAttentionNormWeight);
    }

    /** {@code ln_final.hook_scale} at a position: sqrt(mean(x^2) + eps) of the final residual. */
    public float finalScale(int position) {
        return at(Hooks.LN_FINAL_SCALE, position)[0];
    }

    private static int index(int position, int length) {
        int p = position < 0 ? length + position : position;
        if (p < 0 || p >= length) throw new IndexOutOfBoundsException("position " + position + " outside a sequence of " + length);
        return p;
    }
}
