package org.refusallab.api.study;

/**
 * One instruction's greedy completions by the baseline and the intervened (refusal direction ablated) model, with
 * their refusal flags (the {@link RefusalScore} of the text). {@code set}: "pairs", "held-out pairs" or "eval".
 */
public record Completion(String set, boolean harmful, String instruction, String baseline, boolean baselineRefusal,
                         String intervened, boolean intervenedRefusal) {

    /** How refusal flags are written in every table and file: {@code true} / {@code false}. */
    public static String flag(boolean refusal) {
        return Boolean.toString(refusal);
    }
}
