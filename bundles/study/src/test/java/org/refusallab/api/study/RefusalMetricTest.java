package org.refusallab.api.study;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class RefusalMetricTest {

    @Test
    void logitMetricIsTheTokenLogitMinusTheMeanOfTheOthers() {
        float[] logits = {1f, 2f, 3f, 10f};
        assertEquals(10.0 - (1 + 2 + 3) / 3.0, RefusalMetric.logitMetric(logits, 3), 1e-12);
        assertEquals(1.0 - (2 + 3 + 10) / 3.0, RefusalMetric.logitMetric(logits, 0), 1e-12);
        assertEquals(RefusalMetric.logitMetric(logits, 3), new RefusalMetric(RefusalMetric.Kind.LOGIT, 3).apply(logits), 0);
    }

    @Test
    void logOddsMatchesTheNaiveFormulaForModerateLogits() {
        float[] logits = {0.5f, -1f, 2f, 0.25f, 1.5f};
        int[] refusal = {2, 4};
        double z = 0;
        for (float v : logits) z += Math.exp(v);
        double p = (Math.exp(2) + Math.exp(1.5)) / z;
        assertEquals(Math.log(p) - Math.log(1 - p), RefusalMetric.logOdds(logits, refusal), 1e-12);
    }

    @Test
    void logOddsStaysFiniteWhereTheNaiveFormulaOverflows() {
        // p = 1 / (1 + e^-1000 * 2): log-odds = 1000 - log 2, exp(1000) overflows a double
        float[] logits = {1000f, 0f, 0f};
        assertEquals(1000 - Math.log(2), RefusalMetric.logOdds(logits, new int[] {0}), 1e-9);
        assertEquals(-1000 - Math.log(2), RefusalMetric.logOdds(new float[] {-1000f, 0f, 0f}, new int[] {0}), 1e-9);
    }

    @Test
    void klDivergenceIsZeroForEqualAndMatchesTheDefinition() {
        float[] a = {0f, 1f, 2f}, b = {2f, 1f, 0f};
        assertEquals(0, RefusalMetric.klDivergence(a, a), 1e-15);
        double za = Math.exp(0) + Math.exp(1) + Math.exp(2);
        double kl = 0;
        for (int i = 0; i < 3; i++) {
            double p = Math.exp(a[i]) / za, q = Math.exp(b[i]) / za;
            kl += p * Math.log(p / q);
        }
        assertEquals(kl, RefusalMetric.klDivergence(a, b), 1e-12);
    }

    @Test
    void badTokensAndKindsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> RefusalMetric.logitMetric(new float[] {1f, 2f}, 2));
        assertThrows(IllegalArgumentException.class, () -> RefusalMetric.Kind.parse("probability"));
        assertEquals(RefusalMetric.Kind.LOG_ODDS, RefusalMetric.Kind.parse("log-odds"));
        assertThrows(IllegalArgumentException.class, () -> new RefusalMetric(RefusalMetric.Kind.LOGIT, 1, 2));
    }
}
