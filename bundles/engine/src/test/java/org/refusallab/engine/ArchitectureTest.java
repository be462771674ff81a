package org.refusallab.engine;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.Architecture;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.Tensor;
import org.refusallab.testkit.GemmaReference;

/**
 * What the engine tells analyses about the architecture (API model 2.2), against the fixtures' config.json and the
 * testkit reference: tiny-gemma2's soft-caps, window and post-norms, its post-attention norm weights, and the
 * identity the DLA linearisation rests on: the heads through the post-attention norm with the cached
 * ln1_post.hook_scale sum to hook_attn_out.
 */
class ArchitectureTest {

    @Test
    void gemma2ReportsItsSoftCapsWindowAndPostNormsAndTheNormWeights() throws Exception {
        FixtureReference ref = new FixtureReference("tiny-gemma2");
        try (GemmaModel model = Engine.load(ref.checkpoint(), null)) {
            assertEquals(new Architecture("gemma2", 3.0, 2.0, 4, true), model.architecture());
            GemmaReference reference = GemmaReference.load(ref.checkpoint());
            int n = model.info().nLayers(), d = model.info().dModel();
            for (int l = 0; l < n; l++) {
                float[] w = model.postAttentionNormWeight(l);
                double[] want = reference.postAttentionNormWeight(l);
                for (int i = 0; i < want.length; i++) assertEquals(want[i], w[i], 1e-7, "layer " + l);
            }
            assertThrows(IllegalArgumentException.class, () -> model.postAttentionNormWeight(n));

            int[] tokens = {2, 106, 6, 5, 27, 28, 29, 30, 31, 32, 107, 5, 106, 7, 5};
            var r = model.run(ForwardRequest.of(List.of(tokens)).caching(java.util.Set.of("blocks.*.attn.hook_result", "blocks.*.ln1_post.hook_scale", "blocks.*.hook_attn_out")));
            for (int l = 0; l < n; l++) {
                Tensor result = r.cache().get(Hooks.attnResult(l)), out = r.cache().get(Hooks.attnOut(l));
                float[] w = model.postAttentionNormWeight(l);
                int last = tokens.length - 1, heads = result.dim(2);
                float scale = r.cache().get(Hooks.ln1PostScale(l)).get(0, last, 0);
                double worst = 0, max = 0;
                for (int i = 0; i < d; i++) {
                    double sum = 0;
                    for (int h = 0; h < heads; h++) sum += result.get(0, last, h, i) / (double) scale * (1 + w[i]);
                    worst = Math.max(worst, Math.abs(sum - out.get(0, last, i)));
                    max = Math.max(max, Math.abs(out.get(0, last, i)));
                }
                assertTrue(worst <= 1e-5 * max, "layer " + l + ": heads through the frozen post-norm miss hook_attn_out by " + worst);
            }
        }
    }

    @Test
    void gemma1IsPlainGemmaWithoutPostNorms() throws Exception {
        FixtureReference ref = new FixtureReference("tiny-gemma");
        try (GemmaModel model = Engine.load(ref.checkpoint(), null)) {
            assertEquals(Architecture.GEMMA, model.architecture());
            assertThrows(UnsupportedOperationException.class, () -> model.postAttentionNormWeight(0));
        }
    }
}
