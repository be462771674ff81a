package org.refusallab.api.result;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * A seeded percentile-bootstrap interval of a statistic over {@code n} units (e.g. held-out prompt pairs): the
 * statistic is recomputed on {@code resamples} resamples of the units drawn with replacement by
 * {@code SplittableRandom(seed)} (each resample: n draws of {@code nextInt(n)}); {@code lo} and {@code hi} are the
 * sorted finite values at indices floor(B (1 - level) / 2) and ceil(B (1 + level) / 2) - 1, B the finite count.
 * {@code estimate} is the statistic on all units. Everything needed to redo it is in the record.
 */
public record Interval(double estimate, double lo, double hi, double level, int n, int resamples, long seed, String over) {

    /** The project's defaults: 95 %, 2000 resamples, this seed. */
    public static final double LEVEL = 0.95;
    public static final int RESAMPLES = 2000;
    public static final long SEED = 20241128L;

    public Interval {
        if (!(level > 0 && level < 1)) throw new IllegalArgumentException("interval level " + level + " is not in (0, 1)");
        over = over == null ? "" : over;
    }

    /** The default 95 % interval of {@code statistic} (given the indices of a resample) over n units. */
    public static Interval bootstrap(String over, int n, ToDoubleFunction<int[]> statistic) {
        return bootstrap(over, n, statistic, LEVEL, RESAMPLES, SEED);
    }

    public static Interval bootstrap(String over, int n, ToDoubleFunction<int[]> statistic, double level, int resamples, long seed) {
        if (n < 2) throw new IllegalArgumentException("a bootstrap needs at least 2 units, got " + n + " (" + over + ")");
        int[] all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        double estimate = statistic.applyAsDouble(all);
        SplittableRandom random = new SplittableRandom(seed);
        double[] values = new double[resamples];
        int finite = 0;
        int[] idx = new int[n];
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < n; i++) idx[i] = random.nextInt(n);
            double v = statistic.applyAsDouble(idx);
            if (Double.isFinite(v)) values[finite++] = v;
        }
        if (finite == 0) return new Interval(estimate, Double.NaN, Double.NaN, level, n, resamples, seed, over);
        double[] sorted = Arrays.copyOf(values, finite);
        Arrays.sort(sorted);
        int lo = (int) Math.floor(finite * (1 - level) / 2), hi = (int) Math.ceil(finite * (1 + level) / 2) - 1;
        return new Interval(estimate, sorted[Math.max(0, lo)], sorted[Math.min(finite - 1, Math.max(0, hi))], level, n, resamples, seed, over);
    }

    /** The mean of {@code values} over a resample's indices: the usual statistic. */
    public static double mean(double[] values, int[] idx) {
        double s = 0;
        for (int i : idx) s += values[i];
        return s / idx.length;
    }

    public boolean defined() {
        return Double.isFinite(lo) && Double.isFinite(hi);
    }

    /** "0.412 [0.301, 0.530] (95 % bootstrap over 84 held-out pairs)". */
    public String text() {
        return Finding.fmt(estimate) + " [" + Finding.fmt(lo) + ", " + Finding.fmt(hi) + "] (" + Math.round(level * 100)
                + "% bootstrap over " + over + ")";
    }
}
