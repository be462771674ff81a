package org.refusallab.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.refusallab.testkit.FixtureReproductionTest.ints;
import static org.refusallab.testkit.FixtureReproductionTest.ones;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.Tensor;
import org.refusallab.checkpoint.GemmaConfig;

/**
 * The reference against the activations transformers 5.17 computed for the tiny random Gemma 2 fixture (sliding
 * window 4 on even layers, attention soft-cap 2, final soft-cap 3, query_pre_attn_scalar 24, 4 heads on 2 kv heads).
 * The fixture's {@code hook_attn_out_raw} / {@code hook_mlp_out_raw} (before the post-norms) are not hook points in
 * TransformerLens; they are checked as the sum of the heads' {@code attn.hook_result} and as
 * {@code mlp.hook_post} W_down^T, and through the post-norms' {@code hook_scale}.
 */
class Gemma2FixtureReproductionTest {

    /** As for Gemma 1: the engine is held to 1e-4 of each tensor's max |value|, the double-precision reference to 1e-5. */
    private static final double TOLERANCE = 1e-5;

    private static Path fixture;
    private static JsonNode reference;
    private static Map<String, Tensor> expected;
    private static Map<String, Tensor> weights;
    private static GemmaReference model;

    @BeforeAll
    static void load() throws IOException, URISyntaxException {
        fixture = Path.of(Gemma2FixtureReproductionTest.class.getResource("/fixtures/tiny-gemma2").toURI());
        reference = new ObjectMapper().readTree(fixture.resolve("reference.json").toFile());
        expected = SafetensorsFile.read(fixture.resolve("reference.safetensors"));
        weights = SafetensorsFile.read(fixture.resolve("checkpoint/model.safetensors"));
        model = GemmaReference.load(fixture.resolve("checkpoint"));
    }

    @Test
    void configIsReadAsTransformersRunsIt() {
        GemmaConfig c = model.config();
        assertEquals(new GemmaConfig.Gemma2(4, List.of(true, false, true, false), 24, 2.0, 3.0), c.gemma2());
        assertEquals(GemmaConfig.Gelu.TANH, c.gelu(), "hidden_activation gelu_pytorch_tanh");
        assertTrue(model.hookNames().contains("blocks.3.ln1_post.hook_scale") && model.hookNames().contains("blocks.0.ln2_post.hook_scale"));
    }

    @Test
    void unpaddedBatchReproducesEveryTensor() {
        int[][] ids = ints(reference.at("/cases/batch/input_ids"));
        Map<String, Double> worst = compareCase("batch", model.forward(ids, ones(ids), List.of()));
        System.out.println("tiny-gemma2 batch, worst |ref - HF| / max|HF| per hook kind: " + worst);
    }

    @Test
    void leftPaddedBatchReproducesEveryTensorAtRealPositions() {
        int[][] mask = ints(reference.at("/cases/padded/attention_mask"));
        ReferenceRun run = model.forward(ints(reference.at("/cases/padded/input_ids")), mask, List.of());
        assertArrayEquals(ints(reference.at("/cases/padded/position_ids")), run.positionIds());
        Map<String, Double> worst = compareCase("padded", run);
        System.out.println("tiny-gemma2 padded (real positions), worst |ref - HF| / max|HF| per hook kind: " + worst);
    }

    @Test
    void localLayersSeeOnlyTheirWindowAndScoresAreCapped() {
        int[][] ids = ints(reference.at("/cases/batch/input_ids"));
        ReferenceRun run = model.forward(ids, ones(ids), List.of());
        for (int layer = 0; layer < 4; layer++) {
            DTensor pattern = run.hook("blocks." + layer + ".attn.hook_pattern"), scores = run.hook("blocks." + layer + ".attn.hook_attn_scores");
            boolean local = layer % 2 == 0;
            for (int h = 0; h < 4; h++) {
                for (int q = 0; q < 12; q++) {
                    for (int k = 0; k <= q; k++) {
                        boolean visible = !local || q - k < 4;
                        assertEquals(visible, pattern.get(0, h, q, k) > 0, "layer " + layer + " head " + h + " query " + q + " key " + k);
                        if (visible) assertTrue(Math.abs(scores.get(0, h, q, k)) < 2.0, "soft-capped at 2");
                    }
                }
            }
        }
        assertTrue(run.logits().maxAbs() < 3.0, "final soft-cap 3");
    }

    @Test
    void greedyGenerationMatchesTransformersWhereTheMarginAllows() {
        JsonNode greedy = reference.at("/cases/greedy");
        List<int[]> prompts = new ArrayList<>(List.of(ints(greedy.get("prompt_ids"))));
        List<int[]> want = List.of(ints(greedy.get("generated_ids")));
        GreedyComparison.Result r = GreedyComparison.compare(seqs -> {
            DTensor last = model.run(seqs, List.of()).lastLogits();
            double[][] rows = new double[seqs.size()][];
            for (int i = 0; i < rows.length; i++) rows[i] = last.row(i);
            return rows;
        }, prompts, want, 1e-4);
        System.out.println("tiny-gemma2 greedy (reference): " + r.compared() + " steps compared, near-ties " + r.nearTies()
                + ", min top-2 margin " + r.minMargin() + " (transformers: " + greedy.get("min_top1_top2_logit_margin") + ")");
        assertEquals(List.of(), r.mismatches());
        assertTrue(r.compared() >= 2 * 8 - r.nearTies().size() && r.compared() > 0);
        List<int[]> free = model.generate(prompts, 8, List.of());
        for (int row = 0; row < 2; row++) {
            int agreeUntil = r.firstNearTie(row, 8);
            assertArrayEquals(java.util.Arrays.copyOf(want.get(row), agreeUntil), java.util.Arrays.copyOf(free.get(row), agreeUntil), "row " + row);
        }
    }

    /** Compares every fixture tensor of a case; returns the worst relative error per hook kind (layer stripped). */
    private static Map<String, Double> compareCase(String caseName, ReferenceRun run) {
        Map<String, DTensor> withRaw = new LinkedHashMap<>(run.cache());
        for (int l = 0; l < 4; l++) {
            String b = "blocks." + l + ".";
            withRaw.put(b + "hook_attn_out_raw", sumHeads(run.hook(b + "attn.hook_result")));
            withRaw.put(b + "hook_mlp_out_raw", timesTransposed(run.hook(b + "mlp.hook_post"), weights.get("model.layers." + l + ".mlp.down_proj.weight")));
        }
        ReferenceRun extended = new ReferenceRun(withRaw, run.attentionMask(), run.positionIds());
        Map<String, Tensor> hf = new TreeMap<>();
        for (JsonNode n : reference.get("tensor_names")) {
            String name = n.asText();
            if (!name.startsWith(caseName + ".")) continue;
            String hook = name.substring(caseName.length() + 1);
            hf.put(hook, expected.get(name));
            assertArrayEquals(expected.get(name).shape(), extended.hook(hook).toTensor().shape(), hook + " shape");
            assertTrue(extended.maxAbsAtRealPositions(hook) > 0, hook + " is all zeros");
        }
        assertEquals(4 * 9 + 3, hf.size(), "tensors of case " + caseName);
        // the post-norms' scales, from the fixture's values before those norms
        for (int l = 0; l < 4; l++) {
            hf.put("blocks." + l + ".ln1_post.hook_scale", rmsScale(expected.get(caseName + ".blocks." + l + ".hook_attn_out_raw")));
            hf.put("blocks." + l + ".ln2_post.hook_scale", rmsScale(expected.get(caseName + ".blocks." + l + ".hook_mlp_out_raw")));
        }
        Map<String, Double> worst = new TreeMap<>();
        extended.relativeErrors(hf).forEach((hook, rel) -> {
            assertTrue(rel <= TOLERANCE, caseName + " " + hook + ": relative error " + rel);
            worst.merge(hook.replaceFirst("^blocks\\.\\d+\\.", "blocks.L."), rel, Math::max);
        });
        return worst;
    }

    /** [batch, pos, H, d] -> [batch, pos, d]. */
    static DTensor sumHeads(DTensor result) {
        int bp = result.dim(0) * result.dim(1), heads = result.dim(2), d = result.dim(3);
        DTensor out = DTensor.zeros(result.dim(0), result.dim(1), d);
        for (int i = 0; i < bp; i++) {
            for (int h = 0; h < heads; h++) {
                for (int o = 0; o < d; o++) out.data()[i * d + o] += result.data()[(i * heads + h) * d + o];
            }
        }
        return out;
    }

    /** x [batch, pos, in] times W^T for W [out, in]. */
    static DTensor timesTransposed(DTensor x, Tensor w) {
        int rows = x.dim(0) * x.dim(1), in = x.dim(2), out = (int) w.shape()[0];
        DTensor y = DTensor.zeros(x.dim(0), x.dim(1), out);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double acc = 0;
                for (int i = 0; i < in; i++) acc += (double) w.data()[o * in + i] * x.data()[r * in + i];
                y.data()[r * out + o] = acc;
            }
        }
        return y;
    }

    /** sqrt(mean(x^2) + 1e-6) over the last axis, as a [batch, pos, 1] tensor. */
    static Tensor rmsScale(Tensor x) {
        DTensor t = DTensor.of(x);
        int rows = t.dim(0) * t.dim(1), d = t.dim(2);
        DTensor s = DTensor.zeros(t.dim(0), t.dim(1), 1);
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int i = 0; i < d; i++) sum += t.data()[r * d + i] * t.data()[r * d + i];
            s.data()[r] = Math.sqrt(sum / d + 1e-6);
        }
        return s.toTensor();
    }
}
