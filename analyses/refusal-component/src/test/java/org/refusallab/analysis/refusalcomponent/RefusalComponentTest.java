package org.refusallab.analysis.refusalcomponent;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testkit.lab.ReferenceModel;
import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Lab;

@ExtendWith(RefusalLab.class)
class RefusalComponentTest {

    @Test
    void componentsEqualDoubleProjectionsOfUnbatchedCaches(Lab lab) throws Exception {
        ReferenceModel m = lab.model();
        Independent ind = lab.independent();
        int n = m.info().nLayers();
        var r = Independent.wellFormed(lab.run(new RefusalComponent(lab.studies()), Lab.studyParameters(2, -1, 4)));
        double[] unit = Independent.unit(ind.seedDirection(2, -1));
        double[][] expected = new double[2][n + 1];
        for (String[] pair : Independent.SEED) {
            for (int k = 0; k < 2; k++) {
                var run = ind.run(pair[k], List.of());
                int last = ind.chat(pair[k]).length - 1;
                for (int l = 0; l <= n; l++) {
                    String h = l < n ? "blocks." + l + ".hook_resid_pre" : "blocks." + (n - 1) + ".hook_resid_post";
                    expected[k][l] += Independent.dot(run.hook(h).row(0, last), unit) / 3;
                }
            }
        }
        var fig = Independent.figure(r, "refusal-component");
        assertEquals(n + 1, fig.xLabels().size());
        assertArrayEquals(expected[0], Independent.series(fig, "harmful"), 1e-4);
        assertArrayEquals(expected[1], Independent.series(fig, "harmless"), 1e-4);
        double[] gap = Independent.series(fig, "harmful - harmless");
        for (int l = 0; l <= n; l++) assertEquals(expected[0][l] - expected[1][l], gap[l], 1e-4);
        assertEquals(3, r.findings().size());
    }

    @Test
    void findingsFollowTheGapShape() {
        // 18 layers: flat to L3, steady growth to L12, flat after: every claim holds
        double[] gap = new double[19];
        for (int l = 0; l <= 18; l++) gap[l] = l <= 3 ? 0 : Math.min(l, 12) - 3;
        var f = RefusalComponent.findings(gap, 18);
        for (var x : f) assertEquals(org.refusallab.api.result.Finding.Verdict.AGREES, x.verdict(), x.toString());
        // growth only after L12: the last two claims fail
        double[] late = new double[19];
        for (int l = 13; l <= 18; l++) late[l] = l - 12;
        var g = RefusalComponent.findings(late, 18);
        assertEquals(org.refusallab.api.result.Finding.Verdict.DISAGREES, g.get(1).verdict());
        assertEquals(org.refusallab.api.result.Finding.Verdict.DISAGREES, g.get(2).verdict());
    }
}
