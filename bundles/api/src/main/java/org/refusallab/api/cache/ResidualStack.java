package org.refusallab.api.cache;

import java.util.ArrayList;
import java.util.List;
import org.refusallab.api.model.Tensor;

/**
 * Labelled residual-stream components at one position ({@code [component][d_model]}), e.g. the embedding and every
 * block's attention and MLP output, or every head's result: TransformerLens's decomposed residual / stacked head
 * results. Operations return new stacks or numbers, so analysis code reads like its formula:
 * {@code cache.decompose(layer, -1).applyFinalNorm(cache.finalScale(-1), weight).project(r)}.
 */
public record ResidualStack(List<String> labels, float[][] vectors) {

    public ResidualStack {
        labels = List.copyOf(labels);
        if (labels.size() != vectors.length) throw new IllegalArgumentException(labels.size() + " labels for " + vectors.length + " vectors");
    }

    public int size() {
        return vectors.length;
    }

    /** The sum of the components (the residual they decompose). */
    public float[] sum() {
        float[] s = new float[vectors[0].length];
        double[] acc = new double[s.length];
        for (float[] v : vectors) for (int i = 0; i < s.length; i++) acc[i] += v[i];
        for (int i = 0; i < s.length; i++) s[i] = (float) acc[i];
        return s;
    }

    /**
     * TransformerLens's {@code apply_ln_to_stack} with the cached final scale: each component divided by
     * {@code ln_final.hook_scale} of the full residual and multiplied by Gemma's (1 + w). The components then add
     * up to {@code ln_final.hook_normalized}, and their logits add up to the logits.
     */
    public ResidualStack applyFinalNorm(float scale, float[] normWeight) {
        float[][] out = new float[vectors.length][];
        for (int c = 0; c < vectors.length; c++) {
            out[c] = new float[vectors[c].length];
            for (int i = 0; i < out[c].length; i++) out[c][i] = (float) (vectors[c][i] / (double) scale * (1.0 + normWeight[i]));
        }
        return new ResidualStack(labels, out);
    }

    /**
     * Any Gemma RMSNorm with its scale frozen at the run's value: each component divided by {@code scale} and multiplied
     * by (1 + w). With the cached scale of the norm's input, the components add up to the norm's output (e.g. Gemma 2's
     * heads through the post-attention norm: {@code ln1_post.hook_scale}, {@code HookedModel.postAttentionNormWeight}).
     *
     * @since 1.1
     */
    public ResidualStack applyNorm(float scale, float[] normWeight) {
        return applyFinalNorm(scale, normWeight);
    }

    /** Each component's projection on the unit vector of {@code direction}: {@code x . r / |r|}. */
    public double[] project(float[] direction) {
        double n = 0;
        for (float v : direction) n += (double) v * v;
        n = Math.sqrt(n);
        double[] out = new double[vectors.length];
        for (int c = 0; c < vectors.length; c++) {
            double s = 0;
            for (int i = 0; i < direction.length; i++) s += (double) vectors[c][i] * direction[i];
            out[c] = s / n;
        }
        return out;
    }

    /** Each component's dot product with a vector as given (e.g. a logit-difference direction of W_U columns). */
    public double[] dot(float[] vector) {
        double[] out = new double[vectors.length];
        for (int c = 0; c < vectors.length; c++) {
            double s = 0;
            for (int i = 0; i < vector.length; i++) s += (double) vectors[c][i] * vector[i];
            out[c] = s;
        }
        return out;
    }

    /** Each component's direct logit of the given tokens through W_U {@code [d_model, vocab]}: {@code [component][token]}. */
    public double[][] logits(Tensor unembed, int... tokens) {
        double[][] out = new double[vectors.length][tokens.length];
        int vocab = unembed.dim(1);
        float[] w = unembed.data();
        for (int c = 0; c < vectors.length; c++) {
            for (int t = 0; t < tokens.length; t++) {
                double s = 0;
                for (int i = 0; i < vectors[c].length; i++) s += (double) vectors[c][i] * w[i * vocab + tokens[t]];
                out[c][t] = s;
            }
        }
        return out;
    }

    /** The components whose labels match a predicate, in order. */
    public ResidualStack select(java.util.function.Predicate<String> label) {
        List<String> ls = new ArrayList<>();
        List<float[]> vs = new ArrayList<>();
        for (int c = 0; c < vectors.length; c++) {
            if (label.test(labels.get(c))) { ls.add(labels.get(c)); vs.add(vectors[c]); }
        }
        return new ResidualStack(ls, vs.toArray(new float[0][]));
    }
}
