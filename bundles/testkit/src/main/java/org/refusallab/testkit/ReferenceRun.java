package org.refusallab.testkit;

import java.util.Arrays;
import java.util.Map;
import java.util.NoSuchElementException;
import org.refusallab.api.model.Tensor;

/**
 * One reference forward: every hook's value (after that call's interventions) by TransformerLens name, and the
 * batch's attention mask and position ids.
 *
 * @param cache          hook name to value, e.g. {@code blocks.0.hook_resid_pre} {@code [batch, pos, d_model]}
 * @param attentionMask  {@code [batch][pos]}, 1 for real tokens and 0 for (left) padding
 * @param positionIds    {@code [batch][pos]}, cumsum(mask) - 1, 0 at padding (as Hugging Face)
 */
public record ReferenceRun(Map<String, DTensor> cache, int[][] attentionMask, int[][] positionIds) {

    public DTensor hook(String name) {
        DTensor t = cache.get(name);
        if (t == null) throw new NoSuchElementException("no hook " + name + " in the reference run; hooks: " + cache.keySet());
        return t;
    }

    /** {@code [batch, pos, vocab]}. */
    public DTensor logits() {
        return hook("logits");
    }

    /** Logits at the last (always real, padding being on the left) position of every row: {@code [batch, vocab]}. */
    public DTensor lastLogits() {
        DTensor logits = logits();
        int batch = logits.dim(0), pos = logits.dim(1), vocab = logits.dim(2);
        DTensor last = DTensor.zeros(batch, vocab);
        for (int b = 0; b < batch; b++) System.arraycopy(logits.data(), (b * pos + pos - 1) * vocab, last.data(), b * vocab, vocab);
        return last;
    }

    /** Number of leading padding tokens of every row. */
    public int[] padding() {
        int[] pad = new int[attentionMask.length];
        for (int b = 0; b < pad.length; b++) {
            while (pad[b] < attentionMask[b].length && attentionMask[b][pad[b]] == 0) pad[b]++;
        }
        return pad;
    }

    /**
     * Largest |reference - other| over the entries that padding does not make arbitrary: real positions of
     * {@code [batch, pos, ...]} hooks, real query rows of {@code [batch, head, query, key]} hooks, and for
     * {@code attn.hook_attn_scores} only entries the mask left open (masked entries hold {@link GemmaReference#MASKED_SCORE}
     * here, while another implementation may use -inf or -1e9 there).
     */
    public double maxAbsDiffAtRealPositions(String hookName, Tensor other) {
        DTensor ref = hook(hookName);
        DTensor oth = DTensor.of(other);
        ref.requireSameShape(oth.shape());
        return scanRealPositions(hookName, ref, oth);
    }

    /** Largest |reference| over the same entries as {@link #maxAbsDiffAtRealPositions}: the scale for a relative tolerance. */
    public double maxAbsAtRealPositions(String hookName) {
        DTensor ref = hook(hookName);
        return scanRealPositions(hookName, ref, null);
    }

    /**
     * For every hook of another implementation's cache (an engine's {@code ForwardResult.cache()}, say): the largest
     * difference at real positions divided by the reference's largest |value| there (the absolute difference where
     * that is 0). The scale is per tensor, so "1e-4" reads as "1e-4 of the tensor's largest entry".
     */
    public Map<String, Double> relativeErrors(Map<String, Tensor> other) {
        Map<String, Double> errors = new java.util.TreeMap<>();
        other.forEach((name, t) -> {
            double scale = maxAbsAtRealPositions(name);
            double diff = maxAbsDiffAtRealPositions(name, t);
            errors.put(name, scale == 0 ? diff : diff / scale);
        });
        return errors;
    }

    private double scanRealPositions(String hookName, DTensor ref, DTensor other) {
        boolean perQuery = HookLayout.of(hookName).positionAxis() == 2;
        boolean scores = hookName.endsWith("attn.hook_attn_scores");
        int[] shape = ref.shape();
        int batch = shape[0];
        int positions = shape[perQuery ? 2 : 1];
        int inner = 1; // elements per (row, position) slab below the position axis
        for (int i = (perQuery ? 3 : 2); i < shape.length; i++) inner *= shape[i];
        int outer = perQuery ? shape[1] : 1; // heads above the position axis
        double max = 0;
        for (int b = 0; b < batch; b++) {
            for (int o = 0; o < outer; o++) {
                for (int p = 0; p < positions; p++) {
                    if (attentionMask[b][p] == 0) continue;
                    int start = ((b * outer + o) * positions + p) * inner;
                    for (int i = start; i < start + inner; i++) {
                        if (scores && ref.data()[i] <= GemmaReference.MASKED_SCORE / 2) continue;
                        double v = other == null ? Math.abs(ref.data()[i]) : Math.abs(ref.data()[i] - other.data()[i]);
                        max = Math.max(max, v);
                    }
                }
            }
        }
        return max;
    }

    @Override
    public String toString() {
        return "ReferenceRun[" + cache.size() + " hooks, mask " + Arrays.deepToString(attentionMask) + "]";
    }
}
