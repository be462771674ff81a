package org.refusallab.testkit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Greedy decoding held against expected tokens (a fixture's, another implementation's) without counting near-ties
 * as failures. Teacher-forced: step t runs the prompts followed by the first t expected tokens, so one step's
 * near-tie does not derail the steps after it. At each step and row, the top-2 margin of the logits decides:
 * above {@code relativeMargin} times the row's largest |logit| the argmax must be the expected token; at or below
 * it the step is a near-tie (reported, not compared), and so is a mismatch whose expected token is within that
 * margin of the top. tiny-gemma2's greedy case comes within 0.001 of a tie, for instance.
 */
public final class GreedyComparison {

    private GreedyComparison() { }

    /** A step where float rounding could pick either token. */
    public record NearTie(int row, int step, int expected, int top1, int top2, double margin) { }

    /** A step with a clear margin whose argmax is not the expected token. */
    public record Mismatch(int row, int step, int expected, int got, double gap) { }

    /**
     * @param compared  (row, step) pairs whose margin was clear and whose argmax matched
     * @param minMargin the smallest top-2 margin seen
     */
    public record Result(int compared, List<NearTie> nearTies, List<Mismatch> mismatches, double minMargin) {

        /** The first step of each row that is a near-tie, or the number of steps if none: free-running decoding must agree before it. */
        public int firstNearTie(int row, int steps) {
            return nearTies.stream().filter(t -> t.row() == row).mapToInt(NearTie::step).min().orElse(steps);
        }
    }

    /**
     * @param lastLogits     the model under test: sequences (the caller left-pads them as it likes) to each one's
     *                       last-position logits {@code [row][vocab]}
     * @param expected       the expected new tokens of each prompt, all of the same count
     * @param relativeMargin a margin at or below this fraction of the row's largest |logit| is a near-tie
     */
    public static Result compare(Function<List<int[]>, double[][]> lastLogits, List<int[]> prompts, List<int[]> expected,
                                 double relativeMargin) {
        int steps = expected.get(0).length;
        int compared = 0;
        double minMargin = Double.POSITIVE_INFINITY;
        List<NearTie> ties = new ArrayList<>();
        List<Mismatch> mismatches = new ArrayList<>();
        for (int step = 0; step < steps; step++) {
            List<int[]> seqs = new ArrayList<>();
            for (int r = 0; r < prompts.size(); r++) {
                int[] p = prompts.get(r);
                int[] s = Arrays.copyOf(p, p.length + step);
                System.arraycopy(expected.get(r), 0, s, p.length, step);
                seqs.add(s);
            }
            double[][] logits = lastLogits.apply(seqs);
            for (int r = 0; r < prompts.size(); r++) {
                double[] l = logits[r];
                int top1 = 0, top2 = -1;
                double scale = 0;
                for (int i = 0; i < l.length; i++) {
                    scale = Math.max(scale, Math.abs(l[i]));
                    if (i == 0) continue;
                    if (l[i] > l[top1]) {
                        top2 = top1;
                        top1 = i;
                    } else if (top2 < 0 || l[i] > l[top2]) {
                        top2 = i;
                    }
                }
                double margin = l[top1] - l[top2], tolerance = relativeMargin * scale;
                minMargin = Math.min(minMargin, margin);
                int want = expected.get(r)[step];
                if (margin <= tolerance || (top1 != want && l[top1] - l[want] <= tolerance)) {
                    ties.add(new NearTie(r, step, want, top1, top2, margin));
                } else if (top1 != want) {
                    mismatches.add(new Mismatch(r, step, want, top1, l[top1] - l[want]));
                } else {
                    compared++;
                }
            }
        }
        return new Result(compared, ties, mismatches, minMargin);
    }
}
