package org.refusallab.analysis.blockgrouppatching;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.api.result.Finding;
import org.refusallab.api.study.LayerGroups;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Lab;

@ExtendWith(RefusalLab.class)
class BlockGroupPatchingTest {

    @Test
    void fractionsEqualIndependentNoisingOfEachGroup(Lab lab) throws Exception {
        Independent ind = lab.independent();
        Map<String, String> params = new HashMap<>(Lab.studyParameters(2, -1, 5));
        params.put("layerGroups", "0-1,1-3,3-4");
        var r = Independent.wellFormed(lab.run(new BlockGroupPatching(lab.studies()), params));
        int[][] groups = {{0, 1}, {1, 3}, {3, 4}};
        double base = 0, source = 0;
        for (String[] pair : Independent.SEED) {
            base += ind.logitMetric(pair[0], List.of(), "I") / 3;
            source += ind.logitMetric(pair[1], List.of(), "I") / 3;
        }
        for (int pos = 0; pos < 2; pos++) {
            var fig = Independent.figure(r, "block-group-patching-" + (pos == 0 ? "subject" : "last"));
            assertEquals(0.5, fig.referenceLines().get(0).value());
            for (int blk = 0; blk < 2; blk++) {
                double[] got = Independent.series(fig, blk == 0 ? "attention" : "MLP");
                for (int g = 0; g < 3; g++) {
                    double patched = 0;
                    for (String[] pair : Independent.SEED) {
                        int len = ind.chat(pair[0]).length;
                        int at = pos == 0 ? len - 6 : len - 1;
                        List<String> hooks = new ArrayList<>();
                        for (int l = groups[g][0]; l < groups[g][1]; l++) hooks.add("blocks." + l + (blk == 0 ? ".hook_attn_out" : ".hook_mlp_out"));
                        patched += ind.patchedMetric(pair[0], pair[1], hooks, new int[] {at}, "I") / 3;
                    }
                    assertEquals((patched - base) / (source - base), got[g], 1e-3 * Math.max(1, Math.abs(got[g])), "group " + g + " block " + blk + " pos " + pos);
                }
            }
        }
        assertEquals(7, r.findings().size());
        for (Finding f : r.findings()) assertEquals(f.verdict(), f.recomputed(false), f.toString());
        assertEquals(Finding.Verdict.NOT_APPLICABLE, r.findings().get(0).verdict(), "the tiny model is not gemma-2b-it");
        assertTrue(r.tables().stream().anyMatch(t -> t.id().equals("grouping-sensitivity")), "three groups: the sensitivity table");
        // every figure records the block outputs it patched and where
        var edits = Independent.figure(r, "block-group-patching-last").provenance().interventions();
        assertEquals(2 * 4, edits.size(), "attn_out and mlp_out of each of the 4 layers");
        assertEquals("replace", edits.get(0).kind());
    }

    @Test
    void groupingsSharingRangesRunEachRangeOnceWithTheSameNumbers(Lab lab) throws Exception {
        var study = lab.studies().open(lab.context(BlockGroupPatching.ID, Lab.studyParameters(2, -1, 64)));
        var thirds = LayerGroups.parse("0-1,1-3,3-4", 4);
        var moved = LayerGroups.parse("0-1,1-2,2-4", 4); // shares [0,1) with thirds
        int before = lab.model().forwardCalls.get();
        var both = BlockGroupPatching.computeAll(study, List.of(thirds, moved));
        // one sweep of the unpatched runs and one of the 5 distinct ranges' copies (5 x 4 x pairs rows, one chunk)
        assertEquals(2, lab.model().forwardCalls.get() - before);
        for (int k = 0; k < 2; k++) {
            var alone = BlockGroupPatching.compute(study, k == 0 ? thirds : moved);
            assertEquals(alone.groups(), both.get(k).groups());
            for (int g = 0; g < 3; g++) for (int blk = 0; blk < 2; blk++) for (int pos = 0; pos < 2; pos++) {
                assertArrayEquals(alone.patched()[g][blk][pos], both.get(k).patched()[g][blk][pos], 1e-5, "grouping " + k + " group " + g);
            }
            assertEquals(alone.interventions().size(), both.get(k).interventions().size());
        }
    }

    @Test
    void layerGroupsParseThirdsAndRangesAndRejectBadSpecs() {
        var thirds = LayerGroups.parse("thirds", 18);
        assertEquals(List.of(0, 6, 12), thirds.stream().map(LayerGroups.Group::from).toList());
        assertEquals(List.of(6, 12, 18), thirds.stream().map(LayerGroups.Group::to).toList());
        assertEquals(2, LayerGroups.parse("0-2, 2-4", 4).size());
        assertThrows(IllegalArgumentException.class, () -> LayerGroups.parse("0-5", 4));
        assertThrows(IllegalArgumentException.class, () -> LayerGroups.parse("3-1", 4));
        assertThrows(IllegalArgumentException.class, () -> LayerGroups.parse("early", 4));
    }

    @Test
    void alternativeGroupingsMoveEachBoundaryByOneLayerAndShareThem() {
        var alts = BlockGroupPatching.alternatives(LayerGroups.parse("thirds", 6), 6);
        assertEquals(List.of("[0,1), [1,4), [4,6)", "[0,3), [3,4), [4,6)", "[0,2), [2,3), [3,6)", "[0,2), [2,5), [5,6)", "[0,3), [2,5), [4,6)"),
                alts.stream().map(BlockGroupPatching::describe).toList());
        assertEquals(List.of(), BlockGroupPatching.alternatives(LayerGroups.parse("0-3,3-6", 6), 6));
    }

    @Test
    void findingsUseTheThreshold() {
        // one pair: base 10, source 0; fractions = (patched - 10) / -10
        double[][][][] patched = new double[3][2][2][1];
        for (int g = 0; g < 3; g++) for (int b = 0; b < 2; b++) for (int p = 0; p < 2; p++) patched[g][b][p][0] = 10; // nothing recovered
        patched[0][1][0][0] = 4;  // early MLP @ subject: 0.6
        patched[1][1][1][0] = 2;  // middle MLP @ last: 0.8
        patched[1][0][1][0] = 3;  // middle attention @ last: 0.7
        patched[2][1][1][0] = 1;  // late MLP @ last: 0.9
        var res = new BlockGroupPatching.Result(LayerGroups.parse("thirds", 18), List.of(), 1, patched, new double[] {10}, new double[] {0}, List.of());
        var f = BlockGroupPatching.findings(res, 0.5, 18, false);
        assertEquals(7, f.size());
        assertEquals(Finding.Verdict.NOT_APPLICABLE, f.get(0).verdict());
        assertEquals(Finding.Verdict.DISAGREES, BlockGroupPatching.findings(res, 0.5, 18, true).get(0).verdict(), "10 is not ~25 on gemma-2b-it");
        for (int i = 2; i < f.size(); i++) assertEquals(Finding.Verdict.AGREES, f.get(i).verdict(), f.get(i).toString());
        patched[2][0][1][0] = 0; // late attention @ last fully recovers: half the claim fails
        assertEquals(Finding.Verdict.PARTLY, BlockGroupPatching.findings(res, 0.5, 18, false).get(6).verdict());
        patched[2][0][0][0] = 0; // and at the subject
        assertEquals(Finding.Verdict.DISAGREES, BlockGroupPatching.findings(res, 0.5, 18, false).get(6).verdict());
        patched[1][0][1][0] = 10; // middle attention @ last recovers nothing: PARTLY
        assertEquals(Finding.Verdict.PARTLY, BlockGroupPatching.findings(res, 0.5, 18, false).get(3).verdict());
    }
}
