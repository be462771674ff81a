package org.refusallab.analysis.blockcontributions;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.api.analysis.Assumption;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Fixture;
import org.refusallab.testsupport.RefusalLab.Lab;

/**
 * On the tiny Gemma 2 fixture hook_attn_out / hook_mlp_out are after the post-norms, what each block adds to the
 * residual stream, so the declared assumption (the residual is their sum) holds: the bars equal the double
 * reference's projections and add up to the residual gap. The direction is taken at layer 2: layer 0 attends within
 * a window of 4 keys, which at the last position are the chat suffix shared by both prompts of a pair, so the
 * residual entering layer 1 is the same for harmful and harmless prompts there (a zero difference-of-means).
 */
@ExtendWith(RefusalLab.class)
@RefusalLab.OnModel(Fixture.TINY_GEMMA2)
class BlockContributionsOnGemma2Test {

    @Test
    void barsEqualTheGemma2ReferenceAndAddUpToTheResidualGap(Lab lab) throws Exception {
        assertTrue(lab.assumptions(new BlockContributions(lab.studies())).stream().allMatch(Assumption.Check::holds));
        Independent ind = lab.independent();
        int n = lab.model().info().nLayers();
        var r = Independent.wellFormed(lab.run(new BlockContributions(lab.studies()), Lab.studyParameters(2, -1, 3)));
        double[] unit = Independent.unit(ind.seedDirection(2, -1));
        double[] attn = new double[n], mlp = new double[n];
        double embedGap = 0, postGap = 0;
        int pairs = Independent.SEED.size();
        for (String[] pair : Independent.SEED) {
            for (int k = 0; k < 2; k++) {
                double sign = k == 0 ? 1 : -1;
                var run = ind.run(pair[k], List.of());
                int last = ind.chat(pair[k]).length - 1;
                for (int l = 0; l < n; l++) {
                    attn[l] += sign * Independent.dot(run.hook("blocks." + l + ".hook_attn_out").row(0, last), unit) / pairs;
                    mlp[l] += sign * Independent.dot(run.hook("blocks." + l + ".hook_mlp_out").row(0, last), unit) / pairs;
                }
                embedGap += sign * Independent.dot(run.hook("blocks.0.hook_resid_pre").row(0, last), unit) / pairs;
                postGap += sign * Independent.dot(run.hook("blocks." + (n - 1) + ".hook_resid_post").row(0, last), unit) / pairs;
            }
        }
        var fig = Independent.figure(r, "block-contributions");
        double[] gotAttn = Independent.series(fig, "attention (hook_attn_out)"), gotMlp = Independent.series(fig, "MLP (hook_mlp_out)");
        assertArrayEquals(attn, gotAttn, 1e-4);
        assertArrayEquals(mlp, gotMlp, 1e-4);
        double sum = embedGap;
        for (int l = 0; l < n; l++) sum += gotAttn[l] + gotMlp[l];
        assertEquals(postGap, sum, 1e-4);
        assertTrue(Math.abs(postGap) > 1e-3, "a real gap to add up to: " + postGap);
    }
}
