package org.refusallab.api.model;

/**
 * Where the loaded model is not the plain linear-residual Gemma 1 that interpretability methods are written for.
 * Analyses read it through {@link HookedModel#architecture()}; the platform checks their declared assumptions against
 * it ({@code org.refusallab.api.analysis.Assumption}).
 *
 * @param modelType          config.json's {@code model_type} ({@code gemma}, {@code gemma2})
 * @param finalLogitSoftcap  the logits are {@code tanh(z / cap) * cap} of the linear read-out z; 0 for none (Gemma 1)
 * @param attnLogitSoftcap   attention scores are soft-capped the same way before the mask; 0 for none
 * @param slidingWindow      local layers ignore keys this many or more positions back; 0 for none
 * @param postNorms          {@code hook_attn_out} and {@code hook_mlp_out} are after a post-attention / post-feed-forward
 *                           RMSNorm ({@code ln1_post} / {@code ln2_post}), so {@code attn.hook_result} sums to the
 *                           attention output BEFORE that norm, not to {@code hook_attn_out}
 * @since 2.2
 */
public record Architecture(String modelType, double finalLogitSoftcap, double attnLogitSoftcap, int slidingWindow, boolean postNorms) {

    /** Gemma 1 (gemma-2b-it): no soft-caps, global attention, no post-norms. */
    public static final Architecture GEMMA = new Architecture("gemma", 0, 0, 0, false);

    public boolean softCapsLogits() {
        return finalLogitSoftcap > 0;
    }

    /** Undoes the final soft-cap of one logit: z = cap * atanh(l / cap) (the identity without a cap). */
    public double preSoftcapLogit(double logit) {
        if (!softCapsLogits()) return logit;
        double r = logit / finalLogitSoftcap;
        if (!(Math.abs(r) < 1)) throw new IllegalArgumentException("logit " + logit + " is at or beyond the soft-cap " + finalLogitSoftcap + ": it cannot be undone");
        return finalLogitSoftcap * 0.5 * Math.log((1 + r) / (1 - r));
    }
}
