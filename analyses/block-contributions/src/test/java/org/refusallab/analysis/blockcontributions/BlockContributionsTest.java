package org.refusallab.analysis.blockcontributions;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testkit.lab.ReferenceModel;
import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Lab;

@ExtendWith(RefusalLab.class)
class BlockContributionsTest {

    @Test
    void barsEqualDoubleProjectionDifferencesAndAddUpToTheResidualGap(Lab lab) throws Exception {
        ReferenceModel m = lab.model();
        Independent ind = lab.independent();
        int n = m.info().nLayers();
        var r = Independent.wellFormed(lab.run(new BlockContributions(lab.studies()), Lab.studyParameters(1, -1, 3)));
        double[] unit = Independent.unit(ind.seedDirection(1, -1));
        double[] attn = new double[n], mlp = new double[n];
        double embedGap = 0, postGap = 0;
        for (String[] pair : Independent.SEED) {
            for (int k = 0; k < 2; k++) {
                double sign = k == 0 ? 1 : -1;
                var run = ind.run(pair[k], List.of());
                int last = ind.chat(pair[k]).length - 1;
                for (int l = 0; l < n; l++) {
                    attn[l] += sign * Independent.dot(run.hook("blocks." + l + ".hook_attn_out").row(0, last), unit) / 3;
                    mlp[l] += sign * Independent.dot(run.hook("blocks." + l + ".hook_mlp_out").row(0, last), unit) / 3;
                }
                embedGap += sign * Independent.dot(run.hook("blocks.0.hook_resid_pre").row(0, last), unit) / 3;
                postGap += sign * Independent.dot(run.hook("blocks." + (n - 1) + ".hook_resid_post").row(0, last), unit) / 3;
            }
        }
        var fig = Independent.figure(r, "block-contributions");
        assertTrue(fig.title().contains("harmful - harmless") && fig.caption().contains("harmful minus"), fig.caption());
        double[] gotAttn = Independent.series(fig, "attention (hook_attn_out)"), gotMlp = Independent.series(fig, "MLP (hook_mlp_out)");
        assertArrayEquals(attn, gotAttn, 1e-4);
        assertArrayEquals(mlp, gotMlp, 1e-4);
        // residual stream = embedding + every block's output, so the bars add up to the last resid_post gap
        double sum = embedGap;
        for (int l = 0; l < n; l++) sum += gotAttn[l] + gotMlp[l];
        assertEquals(postGap, sum, 1e-4);
    }

    @Test
    void theSeedsSignIsAvailableAndStated(Lab lab) throws Exception {
        Map<String, String> params = new HashMap<>(Lab.studyParameters(1, -1, 8));
        var analysis = new BlockContributions(lab.studies());
        var plus = Independent.series(Independent.figure(Independent.wellFormed(lab.run(analysis, params)), "block-contributions"), "MLP (hook_mlp_out)");
        params.put("sign", "harmless-minus-harmful");
        var fig = Independent.figure(Independent.wellFormed(lab.run(analysis, params)), "block-contributions");
        assertTrue(fig.title().contains("harmless - harmful"));
        double[] minus = Independent.series(fig, "MLP (hook_mlp_out)");
        for (int l = 0; l < plus.length; l++) assertEquals(-plus[l], minus[l], 1e-12);
        params.put("sign", "up");
        var e = assertThrows(IllegalArgumentException.class, () -> Independent.wellFormed(lab.run(analysis, params)));
        assertTrue(e.getMessage().contains("block-contributions") && e.getMessage().contains("sign") && e.getMessage().contains("'up'"), e.getMessage());
    }

    @Test
    void findingsFollowTheirRulesUnderBothSigns() {
        // 18 layers, one seed pair: MLPs L6-L11 write 1 each, attention L3-L7 0.2 each, attention L8, L11, L12 -0.1
        double[][][] per = new double[1][3][18];
        for (int l = 6; l < 12; l++) per[0][1][l] = 1;
        for (int l = 3; l < 8; l++) per[0][0][l] = 0.2;
        for (int l : new int[] {8, 11, 12}) per[0][0][l] = -0.1;
        var f = BlockContributions.findings(per, 1, 18);
        assertEquals(6, f.size(), "three claims x two readings");
        assertEquals(org.refusallab.api.result.Finding.Verdict.AGREES, f.get(0).verdict(), f.get(0).toString());
        assertEquals(org.refusallab.api.result.Finding.Verdict.AGREES, f.get(2).verdict(), f.get(2).toString());
        assertEquals(org.refusallab.api.result.Finding.Verdict.AGREES, f.get(4).verdict(), f.get(4).toString());
        // the plot's sign turns every claim around, and each finding says the verdict depends on the reading
        assertEquals(org.refusallab.api.result.Finding.Verdict.DISAGREES, f.get(5).verdict(), f.get(5).toString());
        assertTrue(f.get(4).note().contains("depends on the reading"), f.get(4).note());
        for (var x : f) assertEquals(x.verdict(), x.recomputed(false));
        // attention writing more than the MLPs is not a minor role
        per[0][0][4] = 5;
        assertEquals(org.refusallab.api.result.Finding.Verdict.DISAGREES, BlockContributions.findings(per, 1, 18).get(2).verdict());
        // 6 layers: L8, L11, L12 scale to L3, L4, L4; only L5 negative is not agreement
        double[][][] six = new double[1][3][6];
        six[0][1][2] = six[0][1][3] = 1;
        six[0][0][3] = six[0][0][4] = 0.3;
        six[0][0][5] = -0.1;
        var g = BlockContributions.findings(six, 1, 6).get(4);
        assertEquals(org.refusallab.api.result.Finding.Verdict.DISAGREES, g.verdict(), g.toString());
        assertTrue(g.note().contains("L8 -> L3, L11 -> L4, L12 -> L4") && g.note().contains("negative difference anywhere (seed pairs): L5"), g.note());
        assertEquals(2, g.measures().size());
    }
}
