package org.refusallab.analysis.clampsweep;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Finding.Verdict;
import org.refusallab.api.study.Study;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Lab;

@ExtendWith(RefusalLab.class)
class ClampSweepTest {

    private static Map<String, String> params() {
        Map<String, String> p = new HashMap<>(Lab.studyParameters(1, -1, 8));
        p.put("count", "5");
        p.put("generationEvery", "2");
        return p;
    }

    /**
     * The clamp layer is the seed's L10 scaled (round(10 * 4 / 18) = 2 on the 4-layer fixture); every curve point,
     * the unclamped components, the scaled values and the fit against unbatched double reference forwards with the
     * clamp written out, the fit by hand (least squares); the generations against the reference's greedy decoding.
     */
    @Test
    void curvesFitAndGenerationsMatchTheDoubleReference(Lab lab) throws Exception {
        AnalysisResult r = lab.run(new ClampSweep(lab.studies()), params());
        Independent ind = lab.independent();
        double[] unit = Independent.unit(ind.seedDirection(1, -1));
        float[] uf = Independent.toFloat(unit);
        int layer = 2;
        double[] comp = new double[2];
        for (String[] pair : Independent.SEED) {
            for (int k = 0; k < 2; k++) {
                int last = ind.chat(pair[k]).length - 1;
                comp[k] += Independent.dot(ind.run(pair[k], List.of()).hook("blocks." + layer + ".hook_resid_pre").row(0, last), unit) / 3;
            }
        }
        var fig = Independent.figure(r, "metric-vs-clamp");
        assertEquals(comp[0], fig.referenceLines().get(0).value(), 1e-4);
        assertEquals(comp[1], fig.referenceLines().get(1).value(), 1e-4);
        assertEquals("x", fig.referenceLines().get(0).axis());
        double[] values = ClampSweep.covering(ClampSweep.scaledValues(comp[0], comp[1], 5), comp[0], comp[1]);
        assertEquals(12 * comp[0] / 11, values[values.length - 1], 1e-4, "the seed's 12 at 12/11 of the harmful component");
        int nv = values.length;
        assertEquals(nv, fig.xLabels().size());
        for (int v = 0; v < nv; v++) assertEquals(values[v], Double.parseDouble(fig.xLabels().get(v)), 1e-3 * Math.max(1, Math.abs(values[v])));
        double[] harmful = Independent.series(fig, "harmful"), harmless = Independent.series(fig, "harmless");
        double[] expH = new double[nv], expL = new double[nv];
        for (int v = 0; v < nv; v++) {
            double value = Double.parseDouble(fig.xLabels().get(v));
            for (String[] pair : Independent.SEED) {
                for (int k = 0; k < 2; k++) {
                    int last = ind.chat(pair[k]).length - 1;
                    var iv = List.of(Intervention.at("blocks." + layer + ".hook_resid_pre").positions(last).clamp(uf, (float) values[v]));
                    (k == 0 ? expH : expL)[v] += ind.logitMetric(pair[k], iv, "I") / 3;
                }
            }
            assertTrue(Math.abs(value - values[v]) <= 1e-3 * Math.max(1, Math.abs(values[v])));
            assertEquals(expH[v], harmful[v], 1e-4, "harmful at " + v);
            assertEquals(expL[v], harmless[v], 1e-4, "harmless at " + v);
        }
        // the fit by hand: slope = cov(x, y) / var(x), R^2 = corr^2
        double[] byHand = leastSquares(values, expH);
        var fit = Independent.table(r, "clamp-fit").rows().get(0);
        assertEquals(byHand[0], Double.parseDouble(fit.get(1)), 1e-3 * Math.max(1, Math.abs(byHand[0])));
        assertEquals(byHand[1], Double.parseDouble(fit.get(3)), 2e-3);
        double[] fitted = Independent.series(fig, "harmful linear fit");
        for (int v = 0; v < nv; v++) assertEquals(byHand[2] + byHand[0] * values[v], fitted[v], 1e-3 * Math.max(1, Math.abs(fitted[v])));

        // generations at every 2nd value and the last, each prompt against the reference's own greedy decoding with the clamp
        var gens = Independent.table(r, "clamp-generations");
        List<Integer> genIdx = new java.util.ArrayList<>(List.of(-1));
        for (int v = 0; v < nv; v += 2) genIdx.add(v);
        if ((nv - 1) % 2 != 0) genIdx.add(nv - 1);
        assertEquals(6 * genIdx.size(), gens.rows().size(), "unclamped + every 2nd value and the last, 6 prompts each");
        var tok = lab.model().tokenizer();
        int stop1 = tok.tokenId("<end_of_turn>"), stop2 = tok.tokenId("<eos>");
        for (int g = 0; g < genIdx.size(); g++) {
            for (int i = 0; i < 6; i++) {
                String prompt = Independent.SEED.get(i % 3)[i < 3 ? 0 : 1];
                int[] t = tok.encodeChat(prompt);
                List<Intervention> iv = genIdx.get(g) < 0 ? List.of()
                        : List.of(Intervention.at("blocks." + layer + ".hook_resid_pre").positions(t.length - 1).clamp(uf, (float) values[genIdx.get(g)]));
                var row = gens.rows().get(g * 6 + i);
                assertEquals(prompt, row.get(2));
                assertEquals(tok.decode(lab.model().reference().generate(List.of(t), 4, iv, stop1, stop2).get(0), true), row.get(3), "value " + g + " prompt " + i);
            }
        }
        assertEquals(3, r.findings().size());
        // the findings' measures by hand: the smaller signed R^2 of the two fits, |mean gap| / range (the fixture has the 3 seed pairs only)
        double[] byHandL = leastSquares(values, expL);
        double linear = Math.min(Math.signum(byHand[0]) * byHand[1], Math.signum(byHandL[0]) * byHandL[1]);
        assertEquals(linear, r.findings().get(0).measures().get(0).value(), 2e-3);
        assertEquals(3, r.findings().get(0).measures().get(0).perPair().size());
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY, gap = 0;
        for (int v = 0; v < nv; v++) {
            lo = Math.min(lo, Math.min(expH[v], expL[v]));
            hi = Math.max(hi, Math.max(expH[v], expL[v]));
            gap += (expH[v] - expL[v]) / nv;
        }
        assertEquals(Math.abs(gap) / (hi - lo), r.findings().get(1).measures().get(0).value(), 1e-3);
        for (var f : r.findings()) {
            assertNotNull(f.rule(), f.claim());
            assertEquals(f.verdict(), f.recomputed(false), f.claim());
        }
    }

    private static double[] leastSquares(double[] x, double[] y) {
        double mx = 0, my = 0;
        for (int i = 0; i < x.length; i++) { mx += x[i] / x.length; my += y[i] / x.length; }
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.length; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); syy += (y[i] - my) * (y[i] - my); }
        return new double[] {sxy / sxx, sxy * sxy / (sxx * syy), my - sxy / sxx * mx};
    }

    /**
     * A known answer: clamping each prompt to its own unclamped component changes nothing (the metric is the unclamped
     * one), while another value does change it.
     */
    @Test
    void clampingToTheOwnComponentChangesNothing(Lab lab) {
        Study study = lab.studies().open(lab.context(ClampSweep.ID, params()));
        float[] unit = study.direction().unit();
        for (String[] pair : Independent.SEED) {
            List<int[]> one = study.chat(List.of(pair[0]));
            var u = ClampSweep.unclamped(study, one, 2, unit);
            double[][] m = ClampSweep.clamped(study, one, 2, unit, new double[] {u.component()[0], u.component()[0] + 5});
            assertEquals(u.metric()[0], m[0][0], 1e-4, pair[0]);
            assertTrue(Math.abs(m[1][0] - u.metric()[0]) > 1e-4, "another value changes the metric");
        }
    }

    @Test
    void explicitValuesAndBadParameters(Lab lab) throws Exception {
        Map<String, String> p = params();
        p.put("values", "0|1.5|3");
        p.put("generationEvery", "0");
        AnalysisResult r = lab.run(new ClampSweep(lab.studies()), p);
        assertEquals(List.of("0.000", "1.500", "3.000"), Independent.figure(r, "metric-vs-clamp").xLabels());
        assertEquals(Verdict.NOT_APPLICABLE, r.findings().get(2).verdict());
        assertTrue(r.findings().get(2).note().contains("no generations"), r.findings().get(2).note());
        Map<String, String> bad = params();
        bad.put("values", "0|one|2");
        var e = assertThrows(IllegalArgumentException.class, () -> lab.run(new ClampSweep(lab.studies()), bad));
        assertTrue(e.getMessage().contains("clamp-sweep") && e.getMessage().contains("values") && e.getMessage().contains("'0|one|2'"), e.getMessage());
        Map<String, String> one = params();
        one.put("values", "2|2");
        e = assertThrows(IllegalArgumentException.class, () -> lab.run(new ClampSweep(lab.studies()), one));
        assertTrue(e.getMessage().contains("two different values"), e.getMessage());
        Map<String, String> layer = params();
        layer.put("layer", "9");
        e = assertThrows(IllegalArgumentException.class, () -> lab.run(new ClampSweep(lab.studies()), layer));
        assertTrue(e.getMessage().contains("layer") && e.getMessage().contains("'9'"), e.getMessage());
    }

    @Test
    void verdictRulesGiveEveryOutcome() {
        assertEquals(Verdict.AGREES, ClampSweep.verdict(ClampSweep.LINEAR, ClampSweep.linearity(new ClampSweep.Fit(1, 0, 0.95), new ClampSweep.Fit(0.5, 0, 0.99))));
        assertEquals(Verdict.PARTLY, ClampSweep.verdict(ClampSweep.LINEAR, ClampSweep.linearity(new ClampSweep.Fit(1, 0, 0.5), new ClampSweep.Fit(0.5, 0, 0.99))));
        assertEquals(Verdict.DISAGREES, ClampSweep.verdict(ClampSweep.LINEAR, ClampSweep.linearity(new ClampSweep.Fit(-1, 0, 0.95), new ClampSweep.Fit(0.5, 0, 0.99))));
        assertEquals(Verdict.DISAGREES, ClampSweep.verdict(ClampSweep.LINEAR, ClampSweep.linearity(new ClampSweep.Fit(0, 1, Double.NaN), new ClampSweep.Fit(0.5, 0, 0.99))),
                "a flat curve does not increase");
        double[] flat = {1, 1, 1};
        assertEquals(Verdict.AGREES, ClampSweep.verdict(ClampSweep.GAP, ClampSweep.relativeGap(new double[] {0, 5, 10}, new double[] {2, 7, 12})), "gap 2 of range 12");
        assertEquals(Verdict.PARTLY, ClampSweep.verdict(ClampSweep.GAP, ClampSweep.relativeGap(new double[] {0.5, 5.5, 10.5}, new double[] {0, 5, 10})), "0.5 of 10.5");
        assertEquals(Verdict.DISAGREES, ClampSweep.verdict(ClampSweep.GAP, ClampSweep.relativeGap(new double[] {0.1, 5.1, 10.1}, new double[] {0, 5, 10})));
        assertEquals(Verdict.NOT_APPLICABLE, ClampSweep.verdict(ClampSweep.GAP, ClampSweep.relativeGap(flat, flat)));
        assertEquals(Verdict.AGREES, ClampSweep.verdict(ClampSweep.START, ClampSweep.startShare(6, 4, 11)));
        assertEquals(Verdict.AGREES, ClampSweep.verdict(ClampSweep.START, ClampSweep.startShare(11, 4, 11)), "at the harmful component: inside");
        assertEquals(Verdict.PARTLY, ClampSweep.verdict(ClampSweep.START, ClampSweep.startShare(4, 4, 11)), "at the harmless component: outside");
        assertEquals(Verdict.PARTLY, ClampSweep.verdict(ClampSweep.START, ClampSweep.startShare(12, 4, 11)));
        assertEquals(Verdict.PARTLY, ClampSweep.verdict(ClampSweep.START, ClampSweep.startShare(2, 4, 11)));
        assertEquals(Verdict.DISAGREES, ClampSweep.verdict(ClampSweep.START, ClampSweep.startShare(Double.NaN, 4, 11)));
        assertEquals(Verdict.NOT_APPLICABLE, ClampSweep.verdict(ClampSweep.START, ClampSweep.startShare(6, 11, 4)), "harmful not above harmless");
        assertEquals(2.0, ClampSweep.refusalStart(new double[] {0, 1, 2, 3}, new double[] {0, 0.2, 0.5, 1}, 0.5));
        assertTrue(Double.isNaN(ClampSweep.refusalStart(new double[] {0, 1}, new double[] {0, 0.2}, 0.5)));
        double[] v = ClampSweep.scaledValues(22, 8, 13);
        assertEquals(0, v[0]);
        assertEquals(2, v[1], 1e-12);
        assertEquals(24, v[12], 1e-12);
        assertArrayEquals(new double[] {-3, 0, 12, 24}, ClampSweep.covering(new double[] {0, 12, 24}, 20, -3), 1e-12);
    }

    /**
     * A planted answer with held-out pairs (the fixture has none): 3 seed and 2 held-out pairs. The seed pairs' curves
     * rise exactly linearly (harmful 2v + 1, harmless v), the held-out pairs' fall; the linearity measure is 1 over the
     * seed pairs with a held-out interval of -1, so the verdict is PARTLY.
     */
    @Test
    void findingsMeasureTheSeedPairsAndBootstrapTheHeldOutPairs() {
        double[] values = {0, 1, 2, 3};
        int np = 5;
        double[][] metric = new double[values.length][2 * np];
        for (int v = 0; v < values.length; v++) {
            for (int p = 0; p < np; p++) {
                boolean seed = p < 3;
                metric[v][p] = seed ? 2 * values[v] + 1 : -values[v];
                metric[v][np + p] = seed ? values[v] : -2 * values[v];
            }
        }
        var f = ClampSweep.findings(values, metric, 3, 2, Double.NaN, 0, 4, true, 18, 10, false);
        var linear = f.get(0).measures().get(0);
        assertEquals(1, linear.value(), 1e-12);
        assertEquals(3, linear.perPair().size());
        assertEquals(-1, linear.interval().lo(), 1e-12);
        assertEquals(-1, linear.interval().hi(), 1e-12);
        assertEquals(2, linear.interval().n());
        assertEquals(Verdict.PARTLY, f.get(0).verdict());
        // seed gap: mean (v + 1) = 2.5 over a range 0..7
        assertEquals(2.5 / 7, f.get(1).measures().get(0).value(), 1e-12);
        assertEquals(0.5, f.get(2).measures().get(0).value(), 1e-12, "start 2 is half way from harmless 0 to harmful 4");
        assertEquals(Verdict.AGREES, f.get(2).verdict());
        assertTrue(f.get(0).note().isEmpty() || !f.get(0).note().contains("scaled"), "18 layers: no scaling note");
        for (var x : f) assertEquals(x.verdict(), x.recomputed(false), x.claim());
    }
}
