package org.refusallab.analysis.residualpatching;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testkit.lab.ReferenceModel;
import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Lab;

@ExtendWith(RefusalLab.class)
class ResidualPatchingTest {

    @Test
    void heatmapCellsEqualOneReferenceForwardPerPatch(Lab lab) throws Exception {
        ReferenceModel m = lab.model();
        Independent ind = lab.independent();
        int n = m.info().nLayers();
        int maxBatch = 16;
        int before = m.forwardCalls.get();
        var r = Independent.wellFormed(lab.run(new ResidualPatching(lab.studies()), Lab.studyParameters(2, -1, maxBatch)));
        int calls = m.forwardCalls.get() - before;
        int cells = 0;
        for (String[] pair : Independent.SEED) cells += n * 6; // the subject is 6 from the end: positions before it are not run
        // one cache run of the 6 prompts (sources' activations, unpatched metrics), then the copies in chunks: never one forward per patch
        assertEquals(1 + (cells + maxBatch - 1) / maxBatch, calls);

        for (int p = 0; p < 3; p++) {
            String harmful = Independent.SEED.get(p)[0], harmless = Independent.SEED.get(p)[1];
            int len = ind.chat(harmful).length;
            var fig = Independent.figure(r, "residual-patching-pair-" + p);
            double[][] grid = fig.series().get(0).values();
            assertEquals(n, grid.length);
            assertEquals(len, grid[0].length);
            assertEquals(len, fig.xLabels().size());
            assertTrue(fig.xLabels().get(len - 6).contains("/"), "subject column is labelled with both tokens: " + fig.xLabels());
            int subject = len - 6;
            for (int l = 0; l < n; l++) {
                for (int pos : new int[] {0, subject, len - 2, len - 1}) {
                    double expected = ind.patchedMetric(harmless, harmful, List.of("blocks." + l + ".hook_resid_pre"), new int[] {pos}, "I");
                    assertEquals(expected, grid[l][pos], 1e-4, "pair " + p + " layer " + l + " pos " + pos);
                }
            }
            // the tolerance is far below the effects measured
            double spread = Math.abs(ind.logitMetric(harmful, List.of(), "I") - ind.logitMetric(harmless, List.of(), "I"));
            assertTrue(spread > 100 * 1e-4, "spread " + spread);
            // patching layer 0 at the subject swaps the only differing token: the harmful run's metric, exactly
            assertEquals(ind.logitMetric(harmful, List.of(), "I"), grid[0][subject], 1e-4);
            // before the subject the patch is an identity: the unpatched harmless metric (checked against the
            // independent patched forward at position 0 above), here at every such position
            for (int l = 0; l < n; l++) {
                for (int pos = 0; pos < subject; pos++) assertEquals(ind.logitMetric(harmless, List.of(), "I"), grid[l][pos], 1e-4, "L" + l + " pos " + pos);
            }
            // the figure records what it ran: one replace per layer, at the subject and every later position
            var edits = fig.provenance().interventions();
            assertEquals(n, edits.size());
            assertEquals("replace", edits.get(0).kind());
            assertEquals(len - subject, edits.get(0).positions().size());
        }
    }

    @Test
    void findingsFollowTheirRules() {
        // 6 layers, a pair of 8 tokens, subject at 5: early layers recover only at the subject, late only at the last
        org.refusallab.api.study.PairTokens pt = new org.refusallab.api.study.PairTokens(
                new org.refusallab.api.study.PromptPair("a b", "a c"), new int[] {1, 2, 3, 4, 5, 6, 7, 8}, new int[] {1, 2, 3, 4, 5, 9, 7, 8}, 5);
        double[][] grid = new double[6][8];
        for (int l = 0; l < 6; l++) {
            for (int pos = 0; pos < 8; pos++) {
                double frac = l < 2 ? (pos == 5 ? 1 : 0) : l >= 4 ? (pos == 7 ? 1 : 0) : (pos == 5 ? (l == 2 ? 0.8 : 0.3) : pos == 7 ? (l == 2 ? 0.2 : 0.7) : 0);
                grid[l][pos] = frac; // base 0, source 1: the metric is the fraction
            }
        }
        var r = new ResidualPatching.PairResult(pt, grid, 0, 1);
        var f = ResidualPatching.findings(List.of(r), 1, 6);
        assertEquals(5, f.size());
        for (var x : f) assertEquals(org.refusallab.api.result.Finding.Verdict.AGREES, x.verdict(), x.toString());
        assertTrue(f.get(0).note().contains("L6 -> L2, L12 -> L4"), f.get(0).note());
        // an early effect at another position (0.15): PARTLY; 0.5: DISAGREES
        grid[1][2] = 0.15;
        assertEquals(org.refusallab.api.result.Finding.Verdict.PARTLY, ResidualPatching.findings(List.of(r), 1, 6).get(1).verdict());
        grid[1][2] = 0.5;
        assertEquals(org.refusallab.api.result.Finding.Verdict.DISAGREES, ResidualPatching.findings(List.of(r), 1, 6).get(1).verdict());
        // the late last position recovering 0.6: PARTLY (full needs 0.8, the weaker bound 0.5)
        grid[5][7] = 0.6;
        assertEquals(org.refusallab.api.result.Finding.Verdict.PARTLY, ResidualPatching.findings(List.of(r), 1, 6).get(2).verdict());
    }
}
