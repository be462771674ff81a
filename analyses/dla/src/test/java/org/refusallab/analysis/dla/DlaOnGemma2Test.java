package org.refusallab.analysis.dla;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.api.analysis.Assumption;
import org.refusallab.api.model.Architecture;
import org.refusallab.testkit.ReferenceRun;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testkit.lab.ReferenceModel;
import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Fixture;
import org.refusallab.testsupport.RefusalLab.Lab;

/**
 * DLA on the tiny Gemma 2 fixture (final soft-cap 3, post-norms), with its two declared linearisations checked
 * against the testkit's double-precision Gemma 2 forward: heads through the post-attention norm with its cached scale,
 * and the components adding up to the metric of the logits BEFORE the soft-cap (not to the soft-capped one).
 */
@ExtendWith(RefusalLab.class)
@RefusalLab.OnModel(Fixture.TINY_GEMMA2)
class DlaOnGemma2Test {

    private static double[] pullback(ReferenceModel m, int t) {
        var wu = m.unembedMatrix();
        int d = wu.dim(0), vocab = wu.dim(1);
        double[] p = new double[d];
        for (int i = 0; i < d; i++) {
            double others = 0;
            for (int j = 0; j < vocab; j++) if (j != t) others += wu.get(i, j);
            p[i] = wu.get(i, t) - others / (vocab - 1);
        }
        return p;
    }

    private static double lens(double[] x, double scale, double[] w, double[] p) {
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] / scale * (1.0 + w[i]) * p[i];
        return s;
    }

    /** The refusal metric of the reference's logits with the soft-cap undone in double: z = cap * atanh(l / cap). */
    private static double preSoftcapMetric(double[] logits, int token, double cap) {
        double others = 0, self = 0;
        for (int t = 0; t < logits.length; t++) {
            double z = cap * 0.5 * Math.log((1 + logits[t] / cap) / (1 - logits[t] / cap));
            if (t == token) self = z; else others += z;
        }
        return self - others / (logits.length - 1);
    }

    @Test
    void theFixtureBreaksBothAssumptionsAndDlaDeclaresTheirLinearisations(Lab lab) {
        Architecture arch = lab.model().architecture();
        assertEquals(3.0, arch.finalLogitSoftcap());
        assertTrue(arch.postNorms());
        var checks = lab.assumptions(new Dla(lab.studies()));
        assertEquals(List.of(Assumption.RESIDUAL_IS_SUM_OF_BLOCK_OUTPUTS, Assumption.LINEAR_LOGITS, Assumption.HEAD_RESULTS_SUM_TO_ATTN_OUT),
                checks.stream().map(Assumption.Check::assumption).toList());
        assertTrue(checks.get(0).holds());
        assertTrue(checks.get(1).linearised() && !checks.get(1).holds() && !checks.get(1).blocks(), checks.get(1).describe());
        assertTrue(checks.get(1).describe().contains("soft-caps its final logits (tanh(z / 3) * 3)"), checks.get(1).describe());
        assertTrue(checks.get(2).linearised() && !checks.get(2).holds(), checks.get(2).describe());
        assertNull(Assumption.notApplicableReason(checks));
    }

    /** Every number against unbatched double reference forwards, with the post-attention norm applied to each head. */
    @Test
    void everyDlaEqualsTheDoubleGemma2Reference(Lab lab) throws Exception {
        ReferenceModel m = lab.model();
        Independent ind = lab.independent();
        int n = m.info().nLayers(), heads = m.info().nHeads(), token = m.tokenizer().tokenId("I");
        double[] w = m.reference().finalNormWeight();
        double[] p = pullback(m, token);
        double cap = m.architecture().finalLogitSoftcap();
        var r = lab.run(new Dla(lab.studies()), Lab.studyParameters(1, -1, 3));
        double[][] lens = new double[2][n + 1];
        double[] comps = new double[1 + 2 * n];
        double[][] headDiff = new double[n][heads];
        double[] linearMetric = new double[2], cappedMetric = new double[2];
        double share = 1.0 / Independent.SEED.size();
        for (String[] pair : Independent.SEED) {
            for (int k = 0; k < 2; k++) {
                double sign = k == 0 ? 1 : -1;
                ReferenceRun run = ind.run(pair[k], List.of());
                int last = ind.chat(pair[k]).length - 1;
                double scale = run.hook("ln_final.hook_scale").row(0, last)[0];
                double[] logits = run.lastLogits().row(0);
                linearMetric[k] += share * preSoftcapMetric(logits, token, cap);
                cappedMetric[k] += share * ind.logitMetric(pair[k], List.of(), "I");
                lens[k][0] += share * lens(run.hook("hook_embed").row(0, last), scale, w, p);
                comps[0] += sign * share * lens(run.hook("hook_embed").row(0, last), scale, w, p);
                for (int l = 0; l < n; l++) {
                    lens[k][l + 1] += share * lens(run.hook("blocks." + l + ".hook_resid_post").row(0, last), scale, w, p);
                    comps[1 + 2 * l] += sign * share * lens(run.hook("blocks." + l + ".hook_attn_out").row(0, last), scale, w, p);
                    comps[2 + 2 * l] += sign * share * lens(run.hook("blocks." + l + ".hook_mlp_out").row(0, last), scale, w, p);
                    double postScale = run.hook("blocks." + l + ".ln1_post.hook_scale").row(0, last)[0];
                    double[] wPost = m.reference().postAttentionNormWeight(l);
                    for (int h = 0; h < heads; h++) {
                        double[] result = run.hook("blocks." + l + ".attn.hook_result").row(0, last, h);
                        double[] normed = new double[result.length];
                        for (int i = 0; i < result.length; i++) normed[i] = result[i] / postScale * (1 + wPost[i]);
                        headDiff[l][h] += sign * share * lens(normed, scale, w, p);
                    }
                }
            }
        }
        var byLayer = Independent.figure(r, "dla-by-layer");
        assertArrayEquals(lens[0], Independent.series(byLayer, "harmful"), 1e-4);
        assertArrayEquals(lens[1], Independent.series(byLayer, "harmless"), 1e-4);
        double[] comp = Independent.series(Independent.figure(r, "component-dla"), "harmful - harmless");
        assertArrayEquals(comps, comp, 1e-4);
        double[][] cells = Independent.figure(r, "head-dla").series().get(0).values();
        for (int l = 0; l < n; l++) assertArrayEquals(headDiff[l], cells[l], 1e-4, "layer " + l);

        // the identities the linearisations claim: the components add up to the PRE-soft-cap metric difference ...
        double sum = 0;
        for (double c : comp) sum += c;
        double linearDiff = linearMetric[0] - linearMetric[1], cappedDiff = cappedMetric[0] - cappedMetric[1];
        assertEquals(linearDiff, sum, 1e-4 * Math.max(1, Math.abs(linearDiff)));
        assertEquals(linearDiff, Independent.series(Independent.figure(r, "dla-difference"), "harmful - harmless")[n], 1e-4);
        // ... which the soft-cap bends: a plain DLA checked against the model's metric would be off by far more
        assertTrue(Math.abs(cappedDiff - linearDiff) > 100 * 1e-4, "soft-capped " + cappedDiff + " vs linear " + linearDiff);
        // ... and a layer's heads add up to its attention component (hook_attn_out, after the post-norm)
        for (int l = 0; l < n; l++) {
            double s = 0;
            for (double h : cells[l]) s += h;
            assertEquals(comp[1 + 2 * l], s, 1e-4, "heads of layer " + l + " sum to its attention output");
        }
        String caption = Independent.table(r, "component-dla-table").caption();
        assertTrue(caption.contains("before the final soft-cap") && caption.contains("after it"), caption);
        assertTrue(Independent.figure(r, "head-dla").caption().contains("ln1_post.hook_scale"));
        assertTrue(r.summary().contains("before the final soft-cap"), r.summary());
    }
}
