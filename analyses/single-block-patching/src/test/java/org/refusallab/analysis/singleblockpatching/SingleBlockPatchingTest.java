package org.refusallab.analysis.singleblockpatching;

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
class SingleBlockPatchingTest {

    @Test
    void fractionsEqualIndependentNoisingOfEachBlockAtAllPositions(Lab lab) throws Exception {
        ReferenceModel m = lab.model();
        Independent ind = lab.independent();
        int n = m.info().nLayers();
        // maxBatch 7 mixes copies of pairs of different lengths in a chunk: all-position patches then follow each row's padding
        var r = Independent.wellFormed(lab.run(new SingleBlockPatching(lab.studies()), Lab.studyParameters(2, -1, 7)));
        double base = 0, source = 0;
        for (String[] pair : Independent.SEED) {
            base += ind.logitMetric(pair[0], List.of(), "I") / 3;
            source += ind.logitMetric(pair[1], List.of(), "I") / 3;
        }
        var fig = Independent.figure(r, "single-block-patching");
        for (String hook : SingleBlockPatching.HOOKS) {
            double[] got = Independent.series(fig, hook.equals("hook_resid_pre") ? SingleBlockPatching.SANITY : hook);
            for (int l = 0; l < n; l++) {
                double patched = 0;
                for (String[] pair : Independent.SEED) {
                    patched += ind.patchedMetric(pair[0], pair[1], List.of("blocks." + l + "." + hook), null, "I") / 3;
                }
                assertEquals((patched - base) / (source - base), got[l], 1e-3 * Math.max(1, Math.abs(got[l])), hook + " L" + l);
            }
        }
        // patching resid_pre at every position of layer 0 is running the harmless prompt: everything recovered
        assertEquals(1.0, Independent.series(fig, SingleBlockPatching.SANITY)[0], 1e-4);
        // the comparator: resid_pre noised at one position, the best of the layer's positions (recomputed for two layers)
        double[] comparator = Independent.series(fig, SingleBlockPatching.COMPARATOR);
        int shortest = Independent.SEED.stream().mapToInt(p -> ind.chat(p[0]).length).min().orElseThrow();
        for (int l : new int[] {0, n - 1}) {
            double best = Double.NEGATIVE_INFINITY;
            for (int k = 1; k <= shortest; k++) {
                double patched = 0;
                for (String[] pair : Independent.SEED) {
                    int len = ind.chat(pair[0]).length;
                    patched += ind.patchedMetric(pair[0], pair[1], List.of("blocks." + l + ".hook_resid_pre"), new int[] {len - k}, "I") / 3;
                }
                best = Math.max(best, (patched - base) / (source - base));
            }
            assertEquals(best, comparator[l], 1e-3 * Math.max(1, Math.abs(best)), "comparator L" + l);
        }
        // at L0 the subject position alone is the whole difference: the best single position recovers everything
        assertEquals(1.0, comparator[0], 1e-4);
        assertEquals(3, r.findings().size());
        for (var f : r.findings()) assertEquals(f.verdict(), f.recomputed(false), f.toString());
        assertTrue(r.findings().get(0).reading().contains("one position"));
    }

    @Test
    void lastPositionOnlyAndBadPositionsParameter(Lab lab) throws Exception {
        Independent ind = lab.independent();
        Map<String, String> params = new HashMap<>(Lab.studyParameters(2, -1, 32));
        params.put("positions", "last");
        var analysis = new SingleBlockPatching(lab.studies());
        var fig = Independent.figure(Independent.wellFormed(lab.run(analysis, params)), "single-block-patching");
        double base = 0, source = 0, patched = 0;
        for (String[] pair : Independent.SEED) {
            base += ind.logitMetric(pair[0], List.of(), "I") / 3;
            source += ind.logitMetric(pair[1], List.of(), "I") / 3;
            patched += ind.patchedMetric(pair[0], pair[1], List.of("blocks.3.hook_mlp_out"), new int[] {ind.chat(pair[0]).length - 1}, "I") / 3;
        }
        assertEquals((patched - base) / (source - base), Independent.series(fig, "hook_mlp_out")[3], 1e-3);
        params.put("positions", "middle");
        var e = assertThrows(IllegalArgumentException.class, () -> Independent.wellFormed(lab.run(analysis, params)));
        assertTrue(e.getMessage().contains("single-block-patching") && e.getMessage().contains("'middle'"), e.getMessage());
    }
}
