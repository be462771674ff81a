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
}
