package org.refusallab.api.study;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class StatsTest {

    @Test
    void aurocCountsPairsWithTiesAsHalf() {
        double[] s = {0.9, 0.8, 0.8, 0.1};
        boolean[] y = {true, true, false, false};
        // positive-negative pairs: (0.9,0.8) win, (0.9,0.1) win, (0.8,0.8) tie, (0.8,0.1) win -> 3.5 / 4
        assertEquals(3.5 / 4, Stats.auroc(s, y), 1e-12);
        assertTrue(Double.isNaN(Stats.auroc(s, new boolean[] {true, true, true, true})));
    }

    @Test
    void recoveredIsZeroAtTheBaseOneAtTheSourceAndLinearBetween() {
        assertEquals(0.0, Stats.recovered(-2.0, -2.0, 6.0), 1e-12);
        assertEquals(1.0, Stats.recovered(6.0, -2.0, 6.0), 1e-12);
        assertEquals(0.25, Stats.recovered(0.0, -2.0, 6.0), 1e-12);
        assertEquals(-0.5, Stats.recovered(-6.0, -2.0, 6.0), 1e-12);
    }

    @Test
    void pointBiserialEqualsPearsonWithZeroOneLabels() {
        double[] s = {3.0, 1.0, 4.0, 1.5, 9.0, 2.5};
        boolean[] y = {true, false, true, false, true, false};
        double[] x = new double[s.length];
        for (int i = 0; i < s.length; i++) x[i] = y[i] ? 1 : 0;
        double ms = Stats.mean(s), mx = Stats.mean(x), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < s.length; i++) {
            sxy += (s[i] - ms) * (x[i] - mx);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (s[i] - ms) * (s[i] - ms);
        }
        assertEquals(sxy / Math.sqrt(sxx * syy), Stats.pointBiserial(s, y), 1e-12);
    }
}
