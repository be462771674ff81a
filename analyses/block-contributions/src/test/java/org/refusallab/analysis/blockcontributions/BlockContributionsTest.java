package org.refusallab.analysis.blockcontributions;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.study.testing.Independent;
import org.refusallab.study.testing.ReferenceModel;

class BlockContributionsTest {

    @TempDir
    Path config;

    @Test
    void barsEqualDoubleProjectionDifferencesAndAddUpToTheResidualGap() throws Exception {
        ReferenceModel m = ReferenceModel.tiny();
        Independent ind = new Independent(m);
        int n = m.info().nLayers();
        var r = Independent.wellFormed(new BlockContributions().run(Independent.context(m, config, 1, -1, 3)));
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
    void theSeedsSignIsAvailableAndStated() throws Exception {
        ReferenceModel m = ReferenceModel.tiny();
        var ctx = Independent.context(m, config, 1, -1, 8);
        var plus = Independent.series(Independent.figure(Independent.wellFormed(new BlockContributions().run(ctx)), "block-contributions"), "MLP (hook_mlp_out)");
        ctx.parameters().put("analyses.block-contributions.sign", "harmless-minus-harmful");
        var fig = Independent.figure(Independent.wellFormed(new BlockContributions().run(ctx)), "block-contributions");
        assertTrue(fig.title().contains("harmless - harmful"));
        double[] minus = Independent.series(fig, "MLP (hook_mlp_out)");
        for (int l = 0; l < plus.length; l++) assertEquals(-plus[l], minus[l], 1e-12);
        ctx.parameters().put("analyses.block-contributions.sign", "up");
        assertThrows(IllegalArgumentException.class, () -> Independent.wellFormed(new BlockContributions().run(ctx)));
    }
}
