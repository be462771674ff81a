package org.refusallab.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.LoadedCheckpoint;
import org.refusallab.testkit.GemmaReference;
import org.refusallab.testkit.ReferenceRun;

/**
 * Gemma 2 graph paths tiny-gemma2 does not reach, against the testkit's double-precision Gemma 2 on random weights:
 * heads x head_dim unequal to d_model (gemma-2-2b: 8 x 256 vs 2304), one key/value head (a reshape instead of a
 * permute), local layers that do not alternate, a window of 3 with rows of 9 and 4 tokens, no final soft-cap, and
 * the per-head-result variant of the blocks.
 */
class Gemma2GraphVariantsAgainstReferenceTest {

    static final List<int[]> TOKENS = List.of(new int[] {2, 17, 41, 124, 111, 65, 251, 13, 77}, new int[] {2, 38, 153, 39});
    static final Set<String> WATCH = Set.of("blocks.*.hook_resid_pre", "blocks.*.attn.hook_attn_scores", "blocks.*.attn.hook_pattern",
            "blocks.*.attn.hook_z", "blocks.*.ln1_post.hook_scale", "blocks.*.hook_attn_out", "blocks.*.ln2_post.hook_scale",
            "blocks.*.hook_mlp_out", "blocks.*.hook_resid_post", "logits");

    static GemmaConfig config(int kvHeads, double attnCap, double finalCap) {
        return new GemmaConfig("gemma2", 300, 48, 96, 3, 4, kvHeads, 16, 1e-6, 10000.0, GemmaConfig.Gelu.TANH, "float32", 2, 1, 0, 64,
                new GemmaConfig.Gemma2(3, List.of(false, true, true), 20, attnCap, finalCap));
    }

    @ParameterizedTest(name = "{0} key/value heads, attention cap {1}, final cap {2}, per-head results {3}")
    @CsvSource({"1, 2.0, 0, false", "2, 5.0, 1.5, true", "1, 0, 4.0, true"})
    void everyWatchedHookMatchesTheReference(int kvHeads, double attnCap, double finalCap, boolean perHead) {
        GemmaConfig cfg = config(kvHeads, attnCap, finalCap);
        Map<String, INDArray> weights = GraphVariantsAgainstReferenceTest.randomWeights(cfg, 11 + kvHeads);
        GemmaReference reference = new GemmaReference(cfg, GraphVariantsAgainstReferenceTest.asFloats(weights));
        Set<String> watch = new LinkedHashSet<>(WATCH);
        if (perHead) watch.add("blocks.*.attn.hook_result");
        ForwardRequest request = new ForwardRequest(TOKENS, watch, List.of());
        try (GemmaModel model = new GemmaModel(new LoadedCheckpoint(cfg, weights, null, "float32"), null)) {
            ForwardResult got = model.run(request);
            ReferenceRun want = reference.run(request);
            Map<String, Double> errors = want.relativeErrors(got.cache());
            assertEquals(3 * (perHead ? 10 : 9) + 1, errors.size(), "every watched hook compared");
            errors.forEach((hook, rel) -> assertTrue(rel < 1e-4, hook + " relative error " + rel));
            double scale = want.lastLogits().maxAbs();
            assertTrue(want.lastLogits().maxAbsDiff(got.lastLogits()) < 1e-4 * scale, "last logits");
            if (finalCap > 0) assertTrue(scale < finalCap, "logits bounded by the final soft-cap");
            // row 0's last query on local layer 1 sees exactly its 3 latest keys
            var pattern = got.hook("blocks.1.attn.hook_pattern");
            for (int k = 0; k < 9; k++) assertEquals(k >= 6, pattern.get(0, 0, 8, k) > 0, "key " + k);
        }
    }
}
