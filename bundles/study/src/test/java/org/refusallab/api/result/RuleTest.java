package org.refusallab.api.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.refusallab.api.result.Finding.Verdict;

/** Every outcome of every rule kind, the interval logic, the seed-model scope and the bootstrap. */
class RuleTest {

    static Measure m(double v) {
        return Measure.of("x", v, "");
    }

    static Measure m(double v, double lo, double hi) {
        return m(v).interval(new Interval(v, lo, hi, 0.95, 10, 2000, 1, "10 pairs"));
    }

    @Test
    void atLeast() {
        Rule r = Rule.atLeast("necessary = fraction >= 0.5", 0.5);
        assertEquals(Verdict.AGREES, r.judge(m(0.5)));
        assertEquals(Verdict.AGREES, r.judge(m(0.7, 0.55, 0.9)));
        assertEquals(Verdict.PARTLY, r.judge(m(0.7, 0.3, 0.9)), "the interval reaches below the bound");
        assertEquals(Verdict.PARTLY, r.judge(m(0.4, 0.3, 0.6)), "below at the point, the interval reaches the bound");
        assertEquals(Verdict.DISAGREES, r.judge(m(0.4, 0.3, 0.45)));
        assertEquals(Verdict.DISAGREES, r.judge(m(0.49)));
        assertEquals(Verdict.PARTLY, r.partly(0.25).judge(m(0.3)));
        assertEquals(Verdict.DISAGREES, r.partly(0.25).judge(m(0.2)));
    }

    @Test
    void below() {
        Rule r = Rule.below("not necessary = fraction < 0.5", 0.5);
        assertEquals(Verdict.AGREES, r.judge(m(0.2)));
        assertEquals(Verdict.AGREES, r.judge(m(0.2, 0.1, 0.45)));
        assertEquals(Verdict.PARTLY, r.judge(m(0.2, 0.1, 0.6)));
        assertEquals(Verdict.PARTLY, r.judge(m(0.55, 0.4, 0.7)));
        assertEquals(Verdict.DISAGREES, r.judge(m(0.5)), "the bound itself is not below");
        assertEquals(Verdict.DISAGREES, r.judge(m(0.6, 0.55, 0.7)));
        assertEquals(Verdict.PARTLY, r.partly(0.75).judge(m(0.6)));
        assertEquals(Verdict.DISAGREES, r.partly(0.75).judge(m(0.8)));
    }

    @Test
    void atMost() {
        Rule r = Rule.atMost("within a factor of 2 = factor <= 2", 2).partly(1e300);
        assertEquals(Verdict.AGREES, r.judge(m(2)));
        assertEquals(Verdict.AGREES, r.judge(m(1.5, 1.1, 2)));
        assertEquals(Verdict.PARTLY, r.judge(m(1.5, 1.1, 2.5)));
        assertEquals(Verdict.PARTLY, r.judge(m(3)), "the weaker bound");
        assertEquals(Verdict.DISAGREES, r.judge(m(Double.MAX_VALUE)));
        assertEquals(Verdict.DISAGREES, Rule.atMost("t", 2).judge(m(2.5, 2.1, 3)));
        assertEquals(Verdict.PARTLY, Rule.atMost("t", 2).judge(m(2.5, 1.9, 3)));
    }

    @Test
    void within() {
        Rule r = Rule.within("identical = |gap| <= 0.1", 0, 0.1);
        assertEquals(Verdict.AGREES, r.judge(m(0.1)));
        assertEquals(Verdict.AGREES, r.judge(m(-0.05, -0.08, 0.02)));
        assertEquals(Verdict.PARTLY, r.judge(m(0.05, -0.2, 0.02)));
        assertEquals(Verdict.PARTLY, r.judge(m(0.3, -0.5, 0.5)), "an interval spanning the whole band reaches inside");
        assertEquals(Verdict.DISAGREES, r.judge(m(0.3, 0.2, 0.4)));
        assertEquals(Verdict.PARTLY, r.partly(0.5).judge(m(0.3)));
        assertEquals(Verdict.DISAGREES, r.partly(0.5).judge(m(-0.6)));
        assertThrows(IllegalArgumentException.class, () -> Rule.within("t", 0, -1));
    }

    @Test
    void measuresCombineAndNaNIsNotApplicable() {
        Rule r = Rule.atLeast("both >= 0.5", 0.5);
        assertEquals(Verdict.AGREES, r.judge(List.of(m(0.6), m(0.9)), false));
        assertEquals(Verdict.PARTLY, r.judge(List.of(m(0.6), m(0.1)), false));
        assertEquals(Verdict.DISAGREES, r.judge(List.of(m(0.4), m(0.1)), false));
        assertEquals(Verdict.NOT_APPLICABLE, r.judge(List.of(), false));
        assertEquals(Verdict.NOT_APPLICABLE, r.judge(List.of(m(Double.NaN), m(0.9)), false));
    }

    @Test
    void seedModelOnlyIsNotApplicableElsewhereAndShowsTheMeasurement() {
        Rule r = Rule.within("clean metric ~ 25", 25, 5).aboutSeedModel();
        Finding elsewhere = Finding.judge("clean ~ 25", r, false, "", m(7.2));
        assertEquals(Verdict.NOT_APPLICABLE, elsewhere.verdict());
        assertTrue(elsewhere.measured().contains("7.200") && elsewhere.note().contains("Not applicable"), elsewhere.toString());
        assertEquals(Verdict.AGREES, Finding.judge("clean ~ 25", r, true, "", m(24)).verdict());
        assertEquals(Verdict.DISAGREES, Finding.judge("clean ~ 25", r, true, "", m(7.2)).verdict());
        assertTrue(r.logic().contains("NOT_APPLICABLE"));
    }

    @Test
    void findingsKeepTheirRuleAndTheOldConstructorStillWorks() {
        Finding f = Finding.judge("c", Rule.atLeast("t", 0.5), false, "n", m(0.7, 0.2, 0.9));
        assertEquals(Verdict.PARTLY, f.verdict());
        assertEquals(f.verdict(), f.recomputed(false));
        Finding old = new Finding("c", "m", Verdict.AGREES);
        assertEquals(null, old.rule());
        assertEquals(List.of(), old.measures());
        assertEquals(Verdict.AGREES, old.recomputed(false));
    }

    @Test
    void differingReadingsSaySo() {
        Finding a = Finding.judge("c", Rule.atLeast("t", 0.5), false, "", m(0.7)).reading("sum");
        Finding b = Finding.judge("c", Rule.atLeast("t", 0.5), false, "", m(0.1)).reading("mean");
        List<Finding> both = Finding.readings(List.of(a, b));
        assertTrue(both.get(0).note().contains("depends on the reading (sum: AGREES; mean: DISAGREES)"), both.get(0).note());
        Finding c = Finding.judge("c", Rule.atLeast("t", 0.5), false, "", m(0.8)).reading("mean");
        assertEquals(List.of(a, c), Finding.readings(List.of(a, c)));
    }

    @Test
    void bootstrapIsSeededAndMatchesAnIndependentLoop() {
        double[] x = {0.1, 0.5, 0.2, 0.9, 0.4, 0.3, 0.8, 0.6};
        Interval i = Interval.bootstrap("8 pairs", x.length, idx -> Interval.mean(x, idx));
        assertEquals(Interval.bootstrap("8 pairs", x.length, idx -> Interval.mean(x, idx)), i, "same seed, same interval");
        // the documented procedure, written out
        SplittableRandom random = new SplittableRandom(Interval.SEED);
        double[] means = new double[Interval.RESAMPLES];
        for (int b = 0; b < means.length; b++) {
            double s = 0;
            for (int k = 0; k < x.length; k++) s += x[random.nextInt(x.length)];
            means[b] = s / x.length;
        }
        Arrays.sort(means);
        assertEquals(means[50], i.lo(), 0);
        assertEquals(means[1949], i.hi(), 0);
        assertEquals(Arrays.stream(x).average().orElseThrow(), i.estimate(), 1e-15);
        assertTrue(i.lo() < i.estimate() && i.estimate() < i.hi());
        Interval constant = Interval.bootstrap("3", 3, idx -> 2.5);
        assertEquals(2.5, constant.lo(), 0);
        assertEquals(2.5, constant.hi(), 0);
        assertThrows(IllegalArgumentException.class, () -> Interval.bootstrap("1", 1, idx -> 0));
    }
}
