package org.refusallab.api.study;

import java.util.Arrays;

/**
 * Logit-based refusal metrics at the last position, computed in double precision.
 *
 * <ul>
 *   <li>{@link #logitMetric}: the seed's M = logit(refusal token) - mean of all other logits.</li>
 *   <li>{@link #logOdds}: prior work's score log p - log(1 - p), p = total probability of the refusal tokens,
 *       computed as logsumexp(refusal logits) - logsumexp(other logits), which is exact and never overflows.</li>
 * </ul>
 */
public final class RefusalMetric implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    public enum Kind { LOGIT, LOG_ODDS;
        public static Kind parse(String s) {
            return switch (s.trim().toLowerCase().replace('_', '-')) {
                case "logit" -> LOGIT;
                case "log-odds", "logodds" -> LOG_ODDS;
                default -> throw new IllegalArgumentException("unknown refusal metric '" + s + "' (use logit or log-odds)");
            };
        }
    }

    private final Kind kind;
    private final int[] refusalTokens;

    public RefusalMetric(Kind kind, int... refusalTokens) {
        if (refusalTokens.length == 0) throw new IllegalArgumentException("refusal metric needs a refusal token");
        if (kind == Kind.LOGIT && refusalTokens.length != 1) throw new IllegalArgumentException("the logit metric takes one refusal token");
        this.kind = kind;
        this.refusalTokens = refusalTokens.clone();
    }

    public Kind kind() {
        return kind;
    }

    public int[] refusalTokens() {
        return refusalTokens.clone();
    }

    public double apply(float[] logits) {
        return kind == Kind.LOGIT ? logitMetric(logits, refusalTokens[0]) : logOdds(logits, refusalTokens);
    }

    /** The metric of every row of a {@code [batch, vocab]} logits array. */
    public double[] applyRows(org.refusallab.api.model.Tensor lastLogits) {
        double[] out = new double[lastLogits.dim(0)];
        for (int b = 0; b < out.length; b++) out[b] = apply(lastLogits.row(b));
        return out;
    }

    public static double logitMetric(float[] logits, int token) {
        checkToken(logits, token);
        double sum = 0;
        for (float v : logits) sum += v;
        double others = (sum - logits[token]) / (logits.length - 1);
        return logits[token] - others;
    }

    public static double logOdds(float[] logits, int[] tokens) {
        boolean[] refusal = new boolean[logits.length];
        for (int t : tokens) {
            checkToken(logits, t);
            refusal[t] = true;
        }
        double maxIn = Double.NEGATIVE_INFINITY, maxOut = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            if (refusal[i]) maxIn = Math.max(maxIn, logits[i]); else maxOut = Math.max(maxOut, logits[i]);
        }
        double sumIn = 0, sumOut = 0;
        for (int i = 0; i < logits.length; i++) {
            if (refusal[i]) sumIn += Math.exp(logits[i] - maxIn); else sumOut += Math.exp(logits[i] - maxOut);
        }
        return (maxIn + Math.log(sumIn)) - (maxOut + Math.log(sumOut));
    }

    /** log-softmax of one logits row, in double. */
    public static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double sum = 0;
        for (float v : logits) sum += Math.exp(v - max);
        double lse = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
        return out;
    }

    /** KL(p || q) of the distributions given by two logits rows. */
    public static double klDivergence(float[] pLogits, float[] qLogits) {
        double[] lp = logSoftmax(pLogits), lq = logSoftmax(qLogits);
        double kl = 0;
        for (int i = 0; i < lp.length; i++) kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
        return kl;
    }

    private static void checkToken(float[] logits, int token) {
        if (token < 0 || token >= logits.length) throw new IllegalArgumentException("refusal token id " + token + " outside vocab of " + logits.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RefusalMetric m && kind == m.kind && Arrays.equals(refusalTokens, m.refusalTokens);
    }

    @Override
    public int hashCode() {
        return 31 * kind.hashCode() + Arrays.hashCode(refusalTokens);
    }

    @Override
    public String toString() {
        return kind == Kind.LOGIT ? "logit(" + refusalTokens[0] + ") - mean(other logits)" : "log-odds of tokens " + Arrays.toString(refusalTokens);
    }
}
