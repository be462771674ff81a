package org.refusallab.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.GemmaTensors;
import org.refusallab.checkpoint.LoadedCheckpoint;
import org.refusallab.testkit.GemmaReference;
import org.refusallab.testkit.ReferenceRun;

/**
 * The graph paths the fixture does not reach, against the independent double-precision reference: the tanh GELU
 * (gemma-2b-it's; the fixture runs the exact one) and grouped-query attention with 2 key/value heads (the fixture has
 * one, where key/value take a reshape instead of a permute). Random weights large enough (std 0.3) that the GELU
 * works away from its linear part, and a left-padded batch.
 */
class GraphVariantsAgainstReferenceTest {

    static final List<int[]> TOKENS = List.of(new int[] {2, 17, 41, 124, 111, 65, 251, 13}, new int[] {2, 38, 153, 39, 11});
    static final Set<String> WATCH = Set.of("blocks.*.hook_resid_pre", "blocks.*.attn.hook_k", "blocks.*.attn.hook_pattern",
            "blocks.*.attn.hook_z", "blocks.*.mlp.hook_pre", "blocks.*.mlp.hook_post", "blocks.*.hook_resid_post", "ln_final.hook_normalized");

    static GemmaConfig config(String gelu, int kvHeads) {
        return new GemmaConfig("gemma", 300, 64, 128, 2, 4, kvHeads, 16, 1e-6, 10000.0, GemmaConfig.Gelu.parse(gelu), "float32", 2, 1, 0, 64);
    }

    static Map<String, INDArray> randomWeights(GemmaConfig cfg, long seed) {
        Nd4j.getRandom().setSeed(seed);
        Map<String, INDArray> w = new LinkedHashMap<>();
        GemmaTensors.expectedShapes(cfg).forEach((name, shape) -> w.put(name, Nd4j.randn(DataType.FLOAT, shape).muli(shape.length == 1 ? 0.1 : 0.3)));
        return w;
    }

    static Map<String, float[]> asFloats(Map<String, INDArray> w) {
        Map<String, float[]> out = new LinkedHashMap<>();
        w.forEach((k, v) -> out.put(k, v.dup('c').data().asFloat()));
        return out;
    }

    @ParameterizedTest(name = "gelu {0}, {1} key/value heads")
    @CsvSource({"tanh, 1", "tanh, 2", "exact, 2"})
    void everyWatchedHookMatchesTheReference(String gelu, int kvHeads) {
        GemmaConfig cfg = config(gelu, kvHeads);
        Map<String, INDArray> weights = randomWeights(cfg, 7 + kvHeads);
        GemmaReference reference = new GemmaReference(cfg, asFloats(weights));
        ForwardRequest request = new ForwardRequest(TOKENS, WATCH, List.of());
        try (GemmaModel model = new GemmaModel(new LoadedCheckpoint(cfg, weights, null, "float32"), null)) {
            ForwardResult got = model.run(request);
            ReferenceRun want = reference.run(request);
            Map<String, Double> errors = want.relativeErrors(got.cache());
            assertEquals(2 * 7 + 1, errors.size(), "every watched hook compared");
            errors.forEach((hook, rel) -> assertTrue(rel < 1e-4, hook + " relative error " + rel));
            double scale = want.lastLogits().maxAbs();
            assertTrue(want.lastLogits().maxAbsDiff(got.lastLogits()) < 1e-4 * scale, "last logits");

            // The two GELUs differ by at most ~3e-4, about this test's tolerance, so also check that the engine's
            // MLP output is over 10x closer to its own GELU's reference than to the other one's.
            String post = "blocks.0.mlp.hook_post";
            GemmaConfig other = config(gelu.equals("tanh") ? "exact" : "tanh", kvHeads);
            ReferenceRun otherGelu = new GemmaReference(other, asFloats(weights)).run(request);
            double own = want.maxAbsDiffAtRealPositions(post, got.hook(post)), wrong = otherGelu.maxAbsDiffAtRealPositions(post, got.hook(post));
            assertTrue(own * 10 < wrong, "engine vs own GELU " + own + ", vs the other GELU " + wrong);
        }
    }
}
