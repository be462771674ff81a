package org.refusallab.analysis.dla;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.api.result.Finding.Verdict;
import org.refusallab.testkit.ReferenceRun;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testkit.lab.ReferenceModel;
import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Lab;

@ExtendWith(RefusalLab.class)
class DlaTest {

    /** p in double straight from W_U, independent of the analysis's float pullback. */
    private static double[] pullback(ReferenceModel m, String token) {
        var wu = m.unembedMatrix();
        int d = wu.dim(0), vocab = wu.dim(1), t = m.tokenizer().tokenId(token);
        double[] p = new double[d];
        for (int i = 0; i < d; i++) {
            double others = 0;
            for (int j = 0; j < vocab; j++) if (j != t) others += wu.get(i, j);
            p[i] = wu.get(i, t) - others / (vocab - 1);
        }
        return p;
    }

    private static double lens(double[] x, double scale, float[] w, double[] p) {
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] / scale * (1.0 + w[i]) * p[i];
        return s;
    }

    /** (a), (b), (c) against unbatched double reference forwards: residuals, block outputs and head results. */
    @Test
    void everyDlaEqualsTheDoubleReference(Lab lab) throws Exception {
        ReferenceModel m = lab.model();
        Independent ind = lab.independent();
        int n = m.info().nLayers(), heads = m.info().nHeads();
        float[] w = m.finalNormWeight();
        double[] p = pullback(m, "I");
        var r = Independent.wellFormed(lab.run(new Dla(lab.studies()), Lab.studyParameters(1, -1, 3)));
        double[][] lens = new double[2][n + 1];
        double[] comps = new double[1 + 2 * n];
        double[][] headDiff = new double[n][heads];
        for (String[] pair : Independent.SEED) {
            for (int k = 0; k < 2; k++) {
                double sign = k == 0 ? 1 : -1, share = 1.0 / Independent.SEED.size();
                ReferenceRun run = ind.run(pair[k], List.of());
                int last = ind.chat(pair[k]).length - 1;
                double scale = run.hook("ln_final.hook_scale").row(0, last)[0];
                lens[k][0] += share * lens(run.hook("hook_embed").row(0, last), scale, w, p);
                comps[0] += sign * share * lens(run.hook("hook_embed").row(0, last), scale, w, p);
                for (int l = 0; l < n; l++) {
                    lens[k][l + 1] += share * lens(run.hook("blocks." + l + ".hook_resid_post").row(0, last), scale, w, p);
                    comps[1 + 2 * l] += sign * share * lens(run.hook("blocks." + l + ".hook_attn_out").row(0, last), scale, w, p);
                    comps[2 + 2 * l] += sign * share * lens(run.hook("blocks." + l + ".hook_mlp_out").row(0, last), scale, w, p);
                    for (int h = 0; h < heads; h++) {
                        headDiff[l][h] += sign * share * lens(run.hook("blocks." + l + ".attn.hook_result").row(0, last, h), scale, w, p);
                    }
                }
            }
        }
        var byLayer = Independent.figure(r, "dla-by-layer");
        assertArrayEquals(lens[0], Independent.series(byLayer, "harmful"), 1e-4);
        assertArrayEquals(lens[1], Independent.series(byLayer, "harmless"), 1e-4);
        double[] diff = new double[n + 1];
        for (int i = 0; i <= n; i++) diff[i] = lens[0][i] - lens[1][i];
        assertArrayEquals(diff, Independent.series(Independent.figure(r, "dla-difference"), "harmful - harmless"), 1e-4);
        assertArrayEquals(comps, Independent.series(Independent.figure(r, "component-dla"), "harmful - harmless"), 1e-4);
        double[][] cells = Independent.figure(r, "head-dla").series().get(0).values();
        for (int l = 0; l < n; l++) assertArrayEquals(headDiff[l], cells[l], 1e-4, "layer " + l);
        assertEquals(4, r.findings().size());
    }

    /** Planted answer: the embedding plus every block's DLA is the refusal metric, and the heads add up to attn_out. */
    @Test
    void componentsAddUpToTheMetric(Lab lab) throws Exception {
        Independent ind = lab.independent();
        int n = lab.model().info().nLayers();
        var r = lab.run(new Dla(lab.studies()), Lab.studyParameters(1, -1, 8));
        double metricDiff = 0;
        for (String[] pair : Independent.SEED) {
            metricDiff += (ind.logitMetric(pair[0], List.of(), "I") - ind.logitMetric(pair[1], List.of(), "I")) / Independent.SEED.size();
        }
        double[] comps = Independent.series(Independent.figure(r, "component-dla"), "harmful - harmless");
        double sum = 0;
        for (double c : comps) sum += c;
        assertEquals(metricDiff, sum, 1e-4 * Math.max(1, Math.abs(metricDiff)));
        double[] lens = Independent.series(Independent.figure(r, "dla-difference"), "harmful - harmless");
        assertEquals(metricDiff, lens[n], 1e-4 * Math.max(1, Math.abs(metricDiff)));
        double[][] heads = Independent.figure(r, "head-dla").series().get(0).values();
        for (int l = 0; l < n; l++) {
            double s = 0;
            for (double h : heads[l]) s += h;
            assertEquals(comps[1 + 2 * l], s, 1e-4, "heads of layer " + l + " sum to its attention output");
        }
        assertTrue(Independent.table(r, "component-dla-table").caption().contains("Identity"));
    }

    /** The pullback is the logit metric's: with study.metric = log-odds the DLA (and its identity) stay the same. */
    @Test
    void theLogitMetricIsUsedWhateverTheStudysMetric(Lab lab) throws Exception {
        Map<String, String> params = new HashMap<>(Lab.studyParameters(1, -1, 8));
        var logit = Independent.series(Independent.figure(lab.run(new Dla(lab.studies()), params), "component-dla"), "harmful - harmless");
        params.put("study.metric", "log-odds");
        var r = lab.run(new Dla(lab.studies()), params);
        assertArrayEquals(logit, Independent.series(Independent.figure(r, "component-dla"), "harmful - harmless"), 1e-12);
        assertTrue(Independent.table(r, "component-dla-table").caption().contains("logit metric"));
    }

    /** The alternative reading: each residual by its own RMS; the last layer is the same under both. */
    @Test
    void ownRmsScalingIsTheAlternativeAndMatchesAtTheEnd(Lab lab) throws Exception {
        ReferenceModel m = lab.model();
        Independent ind = lab.independent();
        int n = m.info().nLayers();
        double eps = m.info().rmsNormEps();
        float[] w = m.finalNormWeight();
        double[] p = pullback(m, "I");
        Map<String, String> params = new HashMap<>(Lab.studyParameters(1, -1, 8));
        var cached = Independent.series(Independent.figure(lab.run(new Dla(lab.studies()), params), "dla-by-layer"), "harmful");
        params.put("scaling", "own-rms");
        var r = lab.run(new Dla(lab.studies()), params);
        double[] own = Independent.series(Independent.figure(r, "dla-by-layer"), "harmful");
        assertTrue(Independent.figure(r, "dla-by-layer").caption().contains("own RMS"));
        double[] expected = new double[n + 1];
        for (String[] pair : Independent.SEED) {
            ReferenceRun run = ind.run(pair[0], List.of());
            int last = ind.chat(pair[0]).length - 1;
            for (int l = 0; l <= n; l++) {
                double[] x = run.hook(l == 0 ? "hook_embed" : "blocks." + (l - 1) + ".hook_resid_post").row(0, last);
                expected[l] += lens(x, Math.sqrt(Independent.dot(x, x) / x.length + eps), w, p) / Independent.SEED.size();
            }
        }
        assertArrayEquals(expected, own, 1e-4);
        assertEquals(cached[n], own[n], 1e-4);
        params.put("scaling", "sideways");
        var e = assertThrows(IllegalArgumentException.class, () -> lab.run(new Dla(lab.studies()), params));
        assertTrue(e.getMessage().contains("dla") && e.getMessage().contains("scaling") && e.getMessage().contains("'sideways'"), e.getMessage());
    }

    @Test
    void verdictRulesGiveEveryOutcome() {
        assertEquals(0.6, Dla.earlyShare(new double[] {0, 3, 4, 5}, 1), 1e-12);
        assertEquals(Verdict.AGREES, Dla.earlyVerdict(0.6));
        assertEquals(Verdict.PARTLY, Dla.earlyVerdict(0.3));
        assertEquals(Verdict.DISAGREES, Dla.earlyVerdict(0.1));
        assertEquals(0.75, Dla.lateShare(new double[] {0, 1, 4}, 1), 1e-12);
        assertEquals(Verdict.AGREES, Dla.lateVerdict(4, 0.75));
        assertEquals(Verdict.PARTLY, Dla.lateVerdict(4, 0.2));
        assertEquals(Verdict.DISAGREES, Dla.lateVerdict(4, -0.1));
        assertEquals(Verdict.DISAGREES, Dla.lateVerdict(-1, 0.9));
        assertEquals(4, Dla.writers(new double[] {10, -1, 0.5, -5, 2}));
        assertEquals(Verdict.AGREES, Dla.manyVerdict(3, 12));
        assertEquals(Verdict.PARTLY, Dla.manyVerdict(2, 12));
        assertEquals(Verdict.DISAGREES, Dla.manyVerdict(1, 12));
        assertEquals(Verdict.AGREES, Dla.reducesVerdict(-0.1, 1));
        assertEquals(Verdict.PARTLY, Dla.reducesVerdict(0.1, 1));
        assertEquals(Verdict.DISAGREES, Dla.reducesVerdict(0.1, 0));
    }
}
