package org.refusallab.api.study;

/** Small statistics used by the analyses, in double precision. */
public final class Stats {

    private Stats() { }

    public static double mean(double[] xs) {
        if (xs.length == 0) return Double.NaN;
        double s = 0;
        for (double x : xs) s += x;
        return s / xs.length;
    }

    /**
     * The activation-patching "fraction recovered": how far a patched run's metric moved from the base run's metric
     * towards the source run's (0 = unchanged, 1 = the source run's metric fully restored). In the seed's words,
     * with clean = the base run and corrupt = the source run of a noising experiment,
     * {@code fraction = (patched - clean) / (corrupt - clean)}; this is the only place the seed's clean/corrupt
     * names appear.
     */
    public static double recovered(double patched, double base, double source) {
        double clean = base, corrupt = source;
        return (patched - clean) / (corrupt - clean);
    }

    public static double dot(float[] a, float[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("length " + a.length + " != " + b.length);
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }

    /**
     * Area under the ROC curve of scores predicting the positive labels: the probability that a random positive
     * scores above a random negative, ties counting one half (Mann-Whitney U / (n+ n-)). NaN if a class is empty.
     */
    public static double auroc(double[] scores, boolean[] positive) {
        long pos = 0, neg = 0;
        double wins = 0;
        for (int i = 0; i < scores.length; i++) {
            if (!positive[i]) continue;
            pos++;
            for (int j = 0; j < scores.length; j++) {
                if (positive[j]) continue;
                if (scores[i] > scores[j]) wins += 1; else if (scores[i] == scores[j]) wins += 0.5;
            }
        }
        for (boolean p : positive) if (!p) neg++;
        return pos == 0 || neg == 0 ? Double.NaN : wins / (pos * neg);
    }

    /**
     * Point-biserial correlation of a score with a binary label: (m1 - m0) / s * sqrt(p q), s the population
     * standard deviation of all scores; equal to Pearson's r with the label coded 0/1. NaN if undefined.
     */
    public static double pointBiserial(double[] scores, boolean[] label) {
        int n1 = 0;
        double s1 = 0, s0 = 0;
        for (int i = 0; i < scores.length; i++) {
            if (label[i]) { n1++; s1 += scores[i]; } else s0 += scores[i];
        }
        int n0 = scores.length - n1;
        if (n1 == 0 || n0 == 0) return Double.NaN;
        double m = mean(scores), var = 0;
        for (double x : scores) var += (x - m) * (x - m);
        double sd = Math.sqrt(var / scores.length);
        if (sd == 0) return Double.NaN;
        double p = (double) n1 / scores.length;
        return (s1 / n1 - s0 / n0) / sd * Math.sqrt(p * (1 - p));
    }

    public static String fmt(double x) {
        return Double.isNaN(x) ? "n/a" : String.format(java.util.Locale.ROOT, "%.3f", x);
    }
}
