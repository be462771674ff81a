package org.refusallab.analysis.singleblockpatching;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.study.testing.Independent;
import org.refusallab.study.testing.ReferenceModel;

class SingleBlockPatchingTest {

    @TempDir
    Path config;

    @Test
    void fractionsEqualIndependentNoisingOfEachBlockAtAllPositions() throws Exception {
        ReferenceModel m = ReferenceModel.tiny();
        Independent ind = new Independent(m);
        int n = m.info().nLayers();
        // maxBatch 7 mixes copies of pairs of different lengths in a chunk: all-position patches then follow each row's padding
        var r = Independent.wellFormed(new SingleBlockPatching().run(Independent.context(m, config, 2, -1, 7)));
        double clean = 0, corrupt = 0;
        for (String[] pair : Independent.SEED) {
            clean += ind.logitMetric(pair[0], List.of(), "I") / 3;
            corrupt += ind.logitMetric(pair[1], List.of(), "I") / 3;
        }
        var fig = Independent.figure(r, "single-block-patching");
        for (String hook : SingleBlockPatching.HOOKS) {
            double[] got = Independent.series(fig, hook);
            for (int l = 0; l < n; l++) {
                double patched = 0;
                for (String[] pair : Independent.SEED) {
                    patched += ind.patchedMetric(pair[0], pair[1], List.of("blocks." + l + "." + hook), null, "I") / 3;
                }
                assertEquals((patched - clean) / (corrupt - clean), got[l], 1e-3 * Math.max(1, Math.abs(got[l])), hook + " L" + l);
            }
        }
        // patching resid_pre at every position of layer 0 is running the harmless prompt: everything recovered
        assertEquals(1.0, Independent.series(fig, "hook_resid_pre")[0], 1e-4);
    }

    @Test
    void lastPositionOnlyAndBadPositionsParameter() throws Exception {
        ReferenceModel m = ReferenceModel.tiny();
        Independent ind = new Independent(m);
        var ctx = Independent.context(m, config, 2, -1, 32);
        ctx.parameters().put("analyses.single-block-patching.positions", "last");
        var fig = Independent.figure(Independent.wellFormed(new SingleBlockPatching().run(ctx)), "single-block-patching");
        double clean = 0, corrupt = 0, patched = 0;
        for (String[] pair : Independent.SEED) {
            clean += ind.logitMetric(pair[0], List.of(), "I") / 3;
            corrupt += ind.logitMetric(pair[1], List.of(), "I") / 3;
            patched += ind.patchedMetric(pair[0], pair[1], List.of("blocks.3.hook_mlp_out"), new int[] {ind.chat(pair[0]).length - 1}, "I") / 3;
        }
        assertEquals((patched - clean) / (corrupt - clean), Independent.series(fig, "hook_mlp_out")[3], 1e-3);
        ctx.parameters().put("analyses.single-block-patching.positions", "middle");
        assertThrows(IllegalArgumentException.class, () -> Independent.wellFormed(new SingleBlockPatching().run(ctx)));
    }
}
