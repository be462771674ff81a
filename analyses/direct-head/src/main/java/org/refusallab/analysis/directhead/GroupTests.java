package org.refusallab.analysis.directhead;

import java.util.Random;
import org.apache.commons.math3.special.Beta;

/** Two-group comparisons of head scores: Welch's t-test, a permutation test on the mean difference, Cohen's d. */
final class GroupTests {

    private GroupTests() { }

    /** Welch's unequal-variance t-test, two-sided; NaN everywhere when a group has fewer than 2 values or no variance. */
    record Welch(double t, double df, double p) {
        boolean defined() {
            return !Double.isNaN(p);
        }
    }

    static Welch welch(double[] a, double[] b) {
        if (a.length < 2 || b.length < 2) return new Welch(Double.NaN, Double.NaN, Double.NaN);
        double va = variance(a) / a.length, vb = variance(b) / b.length;
        if (va + vb == 0) return new Welch(Double.NaN, Double.NaN, Double.NaN);
        double t = (mean(a) - mean(b)) / Math.sqrt(va + vb);
        double df = (va + vb) * (va + vb) / (va * va / (a.length - 1) + vb * vb / (b.length - 1));
        // two-sided tail of Student's t: I_{df/(df+t^2)}(df/2, 1/2) (what commons-math's TDistribution computes)
        double p = Beta.regularizedBeta(df / (df + t * t), df / 2, 0.5);
        return new Welch(t, df, p);
    }

    /** A permutation test of mean(a) - mean(b), two-sided: exact over every split when there are at most maxSplits. */
    record Permutation(double p, boolean exact, long splits) { }

    static Permutation permutation(double[] a, double[] b, int maxSplits, long seed) {
        int n = a.length + b.length, k = a.length;
        double[] all = new double[n];
        System.arraycopy(a, 0, all, 0, k);
        System.arraycopy(b, 0, all, k, b.length);
        double total = 0;
        for (double x : all) total += x;
        double observed = Math.abs(diff(sum(a), k, total, n));
        double tol = 1e-12 * Math.max(1, observed);
        double combinations = binomial(n, k);
        if (combinations <= maxSplits) {
            long count = 0, splits = 0;
            int[] idx = new int[k];
            for (int i = 0; i < k; i++) idx[i] = i;
            while (true) {
                double s = 0;
                for (int i : idx) s += all[i];
                splits++;
                if (Math.abs(diff(s, k, total, n)) >= observed - tol) count++;
                int i = k - 1;
                while (i >= 0 && idx[i] == n - k + i) i--;
                if (i < 0) break;
                idx[i]++;
                for (int j = i + 1; j < k; j++) idx[j] = idx[j - 1] + 1;
            }
            return new Permutation(count / (double) splits, true, splits);
        }
        Random random = new Random(seed);
        double[] copy = all.clone();
        long count = 0;
        for (int r = 0; r < maxSplits; r++) {
            double s = 0;
            for (int i = 0; i < k; i++) {  // partial Fisher-Yates: the first k of a random permutation
                int j = i + random.nextInt(n - i);
                double t = copy[i]; copy[i] = copy[j]; copy[j] = t;
                s += copy[i];
            }
            if (Math.abs(diff(s, k, total, n)) >= observed - tol) count++;
        }
        return new Permutation((count + 1) / (double) (maxSplits + 1), false, maxSplits);
    }

    private static double diff(double sumA, int k, double total, int n) {
        return sumA / k - (total - sumA) / (n - k);
    }

    static double binomial(int n, int k) {
        double c = 1;
        for (int i = 1; i <= k; i++) c = c * (n - k + i) / i;
        return c;
    }

    /** Cohen's d with the pooled standard deviation; NaN when it is undefined. */
    static double cohensD(double[] a, double[] b) {
        int dfa = a.length - 1, dfb = b.length - 1;
        if (dfa + dfb <= 0 || a.length == 0 || b.length == 0) return Double.NaN;
        double pooled = ((dfa > 0 ? dfa * variance(a) : 0) + (dfb > 0 ? dfb * variance(b) : 0)) / (dfa + dfb);
        return pooled == 0 ? Double.NaN : (mean(a) - mean(b)) / Math.sqrt(pooled);
    }

    static double mean(double[] xs) {
        return sum(xs) / xs.length;
    }

    static double sum(double[] xs) {
        double s = 0;
        for (double x : xs) s += x;
        return s;
    }

    /** Sample variance (n - 1). */
    static double variance(double[] xs) {
        double m = mean(xs), s = 0;
        for (double x : xs) s += (x - m) * (x - m);
        return s / (xs.length - 1);
    }
}
