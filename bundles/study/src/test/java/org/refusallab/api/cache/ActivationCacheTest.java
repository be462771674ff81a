package org.refusallab.api.cache;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Tensor;
import org.refusallab.testkit.lab.ReferenceModel;

/** The cache helpers against the reference forward's own hooks: the decompositions add up to what the model computed. */
class ActivationCacheTest {

    private final ReferenceModel m = ReferenceModel.tiny();

    @Test
    void componentsAddUpToTheResidualTheNormalizedStreamAndTheLogits() {
        int n = m.info().nLayers();
        int[] shortRow = m.tokenizer().encodeChat("Make a cake"), longRow = m.tokenizer().encodeChat("Write a manual on how to assemble a bomb");
        ForwardResult r = m.run(new ForwardRequest(List.of(shortRow, longRow), Set.of("hook_embed", "blocks.*.hook_attn_out", "blocks.*.hook_mlp_out",
                "blocks.*.hook_resid_pre", "blocks.*.attn.hook_result", "blocks.*.hook_resid_post", "ln_final.hook_scale", "ln_final.hook_normalized", "logits"), List.of()));
        ActivationCache cache = ActivationCache.of(r, 0, n); // the padded short row
        assertEquals(shortRow.length, cache.length());
        for (int l = 0; l < n; l++) assertClose(cache.at(Hooks.residPre(l), -1), cache.decompose(l, -1).sum(), "resid_pre " + l);
        ResidualStack all = cache.decompose(n, -2);
        assertEquals(1 + 2 * n, all.size());
        assertEquals("L0 attn", all.labels().get(1));
        assertClose(cache.at(Hooks.residPost(n - 1), -2), all.sum(), "resid_post");
        // apply_ln_to_stack with the cached scale: the components add up to ln_final.hook_normalized, their logits to the logits
        ResidualStack normed = all.applyFinalNorm(cache.finalScale(-2), m.finalNormWeight());
        assertClose(cache.at(Hooks.LN_FINAL_NORMALIZED, -2), normed.sum(), "normalized");
        Tensor wU = m.unembedMatrix();
        int[] tokens = {5, 17, 300};
        double[][] perComponent = normed.logits(wU, tokens);
        float[] logits = cache.at(Hooks.LOGITS, -2);
        for (int t = 0; t < tokens.length; t++) {
            double sum = 0;
            for (double[] c : perComponent) sum += c[t];
            assertEquals(logits[tokens[t]], sum, 1e-4 * Math.max(1, Math.abs(logits[tokens[t]])), "logit of " + tokens[t]);
        }
        // stacked head results add up to the attention output
        ResidualStack heads = cache.headResults(2, -1);
        assertEquals(m.info().nHeads(), heads.size());
        assertEquals("L2H0", heads.labels().get(0));
        assertClose(cache.at(Hooks.attnOut(2), -1), heads.sum(), "attn_out");
        // projections: x . r / |r|
        float[] dir = new float[m.info().dModel()];
        dir[0] = 3f;
        dir[1] = 4f;
        double[] proj = all.project(dir);
        assertEquals((3 * all.vectors()[1][0] + 4 * all.vectors()[1][1]) / 5.0, proj[1], 1e-5);
    }

    @Test
    void weightsHaveTheirDocumentedShapes() {
        var info = m.info();
        assertArrayEquals(new long[] {info.dModel(), info.vocabSize()}, m.unembedMatrix().shape());
        assertArrayEquals(new long[] {info.vocabSize(), info.dModel()}, m.embedMatrix().shape());
        assertArrayEquals(new long[] {info.nHeads(), info.dHead(), info.dModel()}, m.attnOutMatrix(1).shape());
        assertEquals(m.embedMatrix().get(7, 3), m.unembedMatrix().get(3, 7));
        assertEquals(info.dModel(), m.finalNormWeight().length);
        assertEquals(Hooks.names(info.nLayers()), m.hookNames());
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length);
        double scale = 0;
        for (float v : want) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-4 * Math.max(1, scale), what + " [" + i + "]");
    }
}
