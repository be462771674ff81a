package org.refusallab.api.study;

import java.util.function.ToDoubleFunction;
import org.refusallab.api.model.ModelInfo;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Interval;
import org.refusallab.api.result.Measure;

/**
 * The study's conventions for findings: which model the seed's absolute values are about, and the one rule for the
 * seed's layer numbers (read as written on a model with gemma-2b-it's 18 layers, scaled proportionally on another
 * depth with {@link LayerGroups#scaled}, and the finding says so).
 */
public final class Verdicts {

    private Verdicts() { }

    /** The verdict of a finding without a written rule (prefer {@link Finding#judge}). */
    public static Finding.Verdict of(boolean agrees, boolean partly) {
        return agrees ? Finding.Verdict.AGREES : partly ? Finding.Verdict.PARTLY : Finding.Verdict.DISAGREES;
    }

    /**
     * Whether the model is gemma-2b-it (the seed's model): a Gemma 1 with its shapes (18 layers, d_model 2048, 8
     * heads on 1 key/value head, vocabulary 256000). Claims about its absolute values apply only there.
     *
     * @since 1.2
     */
    public static boolean isSeedModel(ModelInfo info) {
        return "gemma".equals(info.modelType()) && info.nLayers() == LayerGroups.SEED_LAYERS && info.dModel() == 2048
                && info.nHeads() == 8 && info.nKvHeads() == 1 && info.vocabSize() == 256000;
    }

    /** Scaled-layer note for claims that name gemma-2b-it's layers ("" on 18 layers). */
    public static String layerNote(int nLayers) {
        return nLayers == LayerGroups.SEED_LAYERS ? "" : " (the seed's layer numbers are for 18 layers; here scaled to " + nLayers + ")";
    }

    /**
     * The finding's note for seed layer numbers: "" on 18 layers, otherwise which layers they became, e.g.
     * "The seed's layers are for 18 layers; on this model's 6 they are scaled by 6/18 (rounded): L3 -> L1, L6 -> L2."
     *
     * @since 1.2
     */
    public static String layerRule(int nLayers, int... seedLayers) {
        if (nLayers == LayerGroups.SEED_LAYERS) return "";
        StringBuilder s = new StringBuilder("The seed's layer numbers are gemma-2b-it's (18 layers); on this model's " + nLayers
                + " they are scaled by " + nLayers + "/18 and rounded half up:");
        for (int i = 0; i < seedLayers.length; i++) {
            s.append(i == 0 ? " " : ", ").append("L").append(seedLayers[i]).append(" -> L").append(LayerGroups.scaled(seedLayers[i], nLayers));
        }
        return s.append('.').toString();
    }

    /**
     * A measure over prompt pairs numbered seed pairs first ({@code 0..nSeed-1}), then held-out pairs
     * ({@code nSeed..nSeed+nHeldOut-1}): its value is {@code statistic} over the seed pairs, its per-pair values the
     * statistic of each seed pair alone, and its interval the default bootstrap of the statistic over the held-out
     * pairs (none with fewer than 2). {@code statistic} gets the indices of the pairs to use (with repeats).
     *
     * @since 1.2
     */
    public static Measure overPairs(String name, int nSeed, int nHeldOut, ToDoubleFunction<int[]> statistic) {
        int[] seed = new int[nSeed];
        for (int i = 0; i < nSeed; i++) seed[i] = i;
        double[] per = new double[nSeed];
        for (int i = 0; i < nSeed; i++) per[i] = statistic.applyAsDouble(new int[] {i});
        Measure m = Measure.of(name, nSeed == 0 ? Double.NaN : statistic.applyAsDouble(seed), "over the " + nSeed + " seed pairs").perPair(per);
        if (nHeldOut < 2) return m;
        return m.interval(Interval.bootstrap(nHeldOut + " held-out pairs", nHeldOut, idx -> {
            int[] shifted = new int[idx.length];
            for (int i = 0; i < idx.length; i++) shifted[i] = nSeed + idx[i];
            return statistic.applyAsDouble(shifted);
        }));
    }

    /** The mean of {@code values} at {@code idx}. @since 1.2 */
    public static double mean(double[] values, int[] idx) {
        return Interval.mean(values, idx);
    }

    /** The fraction recovered of pair-averaged metrics at {@code idx} ({@link Stats#recovered}). @since 1.2 */
    public static double recovered(double[] patched, double[] base, double[] source, int[] idx) {
        return Stats.recovered(mean(patched, idx), mean(base, idx), mean(source, idx));
    }
}
