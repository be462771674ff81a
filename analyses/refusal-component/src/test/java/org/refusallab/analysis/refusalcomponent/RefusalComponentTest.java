package org.refusallab.analysis.refusalcomponent;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.refusallab.api.result.Finding.Verdict;
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
        for (var f : r.findings()) assertEquals(f.verdict(), f.recomputed(false));
    }

    @Test
    void findingsFollowTheGapShape() {
        // 18 layers: flat to L3, steady growth to L12, flat after: every claim holds
        double[] gap = new double[19];
        for (int l = 0; l <= 18; l++) gap[l] = l <= 3 ? 0 : Math.min(l, 12) - 3;
        var f = RefusalComponent.findings(new double[][] {gap}, 1, 18);
        for (var x : f) assertEquals(Verdict.AGREES, x.verdict(), x.toString());
        // growth only after L12: the last two claims fail
        double[] late = new double[19];
        for (int l = 13; l <= 18; l++) late[l] = l - 12;
        var g = RefusalComponent.findings(new double[][] {late}, 1, 18);
        assertEquals(Verdict.DISAGREES, g.get(1).verdict());
        assertEquals(Verdict.DISAGREES, g.get(2).verdict());
        // growth from L3 to L12 with 62 % in one step: not steady
        double[] jump = gap.clone();
        for (int l = 4; l <= 18; l++) jump[l] = l == 4 ? 0.2 : l == 5 ? 0.82 : Math.min(1, 0.82 + (l - 5) * 0.18 / 7);
        assertEquals(0.62, RefusalComponent.largestStepShare(jump, 3, 12), 1e-9);
        assertEquals(Verdict.DISAGREES, RefusalComponent.findings(new double[][] {jump}, 1, 18).get(1).verdict());
        // an early gap of 10 % of the largest: PARTLY (identical needs < 5 %, the weaker bound 20 %)
        double[] early = gap.clone();
        early[2] = 0.9;
        assertEquals(Verdict.PARTLY, RefusalComponent.findings(new double[][] {early}, 1, 18).get(0).verdict());
        // held-out pairs whose gap mostly grows after L12: the seed pair agrees, the interval does not
        double[][] mixed = new double[11][];
        mixed[0] = gap;
        for (int i = 1; i < 11; i++) mixed[i] = i % 2 == 0 ? gap : late;
        var h = RefusalComponent.findings(mixed, 1, 18).get(2);
        assertEquals(Verdict.PARTLY, h.verdict(), h.toString());
        assertEquals(h.verdict(), h.recomputed(false));
        assertTrue(h.measures().get(0).interval().n() == 10);
        // 6 layers: the seed's L3 and L12 scale to L1 and L4, and the note says so
        assertTrue(RefusalComponent.findings(new double[][] {new double[7]}, 1, 6).get(0).note().contains("L3 -> L1, L12 -> L4"));
    }
}
