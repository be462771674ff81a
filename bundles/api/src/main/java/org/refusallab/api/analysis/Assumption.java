package org.refusallab.api.analysis;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.refusallab.api.model.Architecture;

/**
 * What an analysis's numbers rely on about the model, declared on {@link AnalysisInfo#assumes()} or
 * {@link AnalysisInfo#linearises()} and checked by the platform against the loaded model's {@link Architecture}
 * before the analysis runs. An analysis that assumes something the model breaks is not run: its page says NOT
 * APPLICABLE with the reason. One that linearises it runs, and its page states the linearisation (each constant names
 * the standard one; the analysis applies it, e.g. DLA on the pre-soft-cap logits).
 *
 * @since 2.1
 */
public enum Assumption {

    /**
     * The residual stream is the sum of {@code hook_embed} and every block's {@code hook_attn_out} and
     * {@code hook_mlp_out}. Holds on Gemma 1 and Gemma 2 (TransformerLens puts Gemma 2's hooks after the post-norms).
     */
    RESIDUAL_IS_SUM_OF_BLOCK_OUTPUTS(
            "the residual stream is hook_embed plus every block's hook_attn_out and hook_mlp_out",
            null),

    /**
     * The logits, and so the logit refusal metric, are linear in the final norm's output ({@code ln_final.hook_normalized
     * . W_U}), so direct logit attributions add up to them. Broken by a final-logit soft-cap (Gemma 2).
     */
    LINEAR_LOGITS(
            "the logits (and the logit metric) are linear in the final norm's output, so attributions add up to them",
            "attributions are of the logits before the final soft-cap, z = cap * atanh(logits / cap), which are linear in the"
                    + " residual stream (the soft-cap is monotone per logit, so signs and rankings carry over, but it bends differences and sums)"),

    /**
     * Each head's {@code attn.hook_result} is its share of {@code hook_attn_out}: the heads sum to what attention adds
     * to the residual. Broken by a post-attention norm (Gemma 2: the heads sum to its input).
     */
    HEAD_RESULTS_SUM_TO_ATTN_OUT(
            "the per-head results attn.hook_result sum to hook_attn_out (what attention adds to the residual)",
            "head h contributes attn.hook_result[h] / ln1_post.hook_scale * (1 + w_post_attention_norm): the post-attention norm"
                    + " with its scale frozen at the run's value (as apply_ln_to_stack does for the final norm), so the heads sum to hook_attn_out exactly");

    private final String statement;
    private final String linearisation;

    Assumption(String statement, String linearisation) {
        this.statement = statement;
        this.linearisation = linearisation;
    }

    /** What is assumed, in words. */
    public String statement() {
        return statement;
    }

    /** The standard linearisation where a model breaks it, or null if there is none (the analysis is then not applicable). */
    public String linearisation() {
        return linearisation;
    }

    /** Why {@code model} breaks this assumption, or null if it holds. */
    public String violation(Architecture model) {
        return switch (this) {
            case RESIDUAL_IS_SUM_OF_BLOCK_OUTPUTS -> null;
            case LINEAR_LOGITS -> model.softCapsLogits()
                    ? model.modelType() + " soft-caps its final logits (tanh(z / " + fmt(model.finalLogitSoftcap()) + ") * "
                            + fmt(model.finalLogitSoftcap()) + "): they are bounded and not linear in the residual stream"
                    : null;
            case HEAD_RESULTS_SUM_TO_ATTN_OUT -> model.postNorms()
                    ? model.modelType() + " normalises the attention output after the heads (post-attention RMSNorm, ln1_post):"
                            + " the heads' results sum to the norm's input, not to hook_attn_out"
                    : null;
        };
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
    }

    /**
     * One declared assumption against one model.
     *
     * @param violation why the model breaks it, or null if it holds
     * @param linearised the analysis declared it under {@link AnalysisInfo#linearises()} (it runs with the linearisation)
     */
    public record Check(Assumption assumption, boolean linearised, String violation) {

        public boolean holds() {
            return violation == null;
        }

        /** The model breaks it and the analysis has no linearisation: the analysis must not run. */
        public boolean blocks() {
            return violation != null && !linearised;
        }

        /** One line for the report: the assumption, and on this model holds / linearised how / not applicable why. */
        public String describe() {
            String head = assumption.name() + " (" + assumption.statement + "): ";
            if (violation == null) return head + "holds on this model";
            if (linearised) return head + "broken on this model (" + violation + "); linearised: " + assumption.linearisation;
            return head + "NOT APPLICABLE: " + violation;
        }
    }

    /**
     * Checks an analysis's declarations against a model, in declaration order ({@code assumes} first). An assumption
     * under {@code linearises} that has no standard linearisation is an error in the declaration.
     */
    public static List<Check> check(Architecture model, Collection<Assumption> assumes, Collection<Assumption> linearises) {
        List<Check> out = new ArrayList<>();
        for (Assumption a : assumes) if (!linearises.contains(a)) out.add(new Check(a, false, a.violation(model)));
        for (Assumption a : linearises) {
            if (a.linearisation == null) throw new IllegalArgumentException(a + " has no linearisation: declare it under assumes");
            out.add(new Check(a, true, a.violation(model)));
        }
        return out;
    }

    /**
     * Why an analysis with these checks must not run (each blocking assumption with the model's reason), or null when
     * it may: the text of its NOT APPLICABLE page.
     */
    public static String notApplicableReason(List<Check> checks) {
        List<String> blocking = new ArrayList<>();
        for (Check k : checks) if (k.blocks()) blocking.add(k.assumption().name() + " (" + k.assumption().statement() + "): " + k.violation());
        return blocking.isEmpty() ? null : "NOT APPLICABLE on this model: it assumes " + String.join("; and ", blocking);
    }

    /** {@link #check(Architecture, Collection, Collection)} of an analysis's {@link AnalysisInfo}. */
    public static List<Check> check(Architecture model, AnalysisInfo info) {
        return check(model, List.of(info.assumes()), List.of(info.linearises()));
    }
}
