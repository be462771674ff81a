package org.refusallab.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.Intervention;
import org.refusallab.checkpoint.Checkpoint;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.LoadedCheckpoint;
import org.refusallab.engine.graph.GemmaGraph;
import org.refusallab.engine.graph.GemmaSegments;
import org.refusallab.engine.graph.HookPoints;
import org.refusallab.engine.graph.PlannedGraph;

/**
 * The planned execution ({@link PlannedGraph}): the same numbers as SameDiff's own InferenceSession on the same
 * graph, and replays of a plan (arrays reused across calls and shared between blocks) that give exactly what the
 * planning call gave, whatever ran in between: other shapes, the per-head variant, interventions, hooks.
 */
class PlannedForwardTest {

    static final List<int[]> A = List.of(new int[] {2, 137, 41, 124, 111, 365, 251, 503}, new int[] {2, 338, 353, 39, 11});
    static final List<int[]> B = List.of(new int[] {2, 12, 99, 401, 7, 88, 300, 301, 44, 9, 10});
    static FixtureReference ref;
    static GemmaModel model;

    @BeforeAll
    static void load() throws Exception {
        ref = new FixtureReference("tiny-gemma");
        model = Engine.load(ref.checkpoint(), "exact");
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void blockMatchesSameDiffsOwnExecution() {
        LoadedCheckpoint ckpt = Checkpoint.load(ref.checkpoint(), GemmaConfig.Gelu.EXACT);
        GemmaConfig cfg = ckpt.config();
        Nd4j.getRandom().setSeed(7);
        GemmaSegments segments = new GemmaSegments(cfg, ckpt.weights());
        for (boolean perHead : new boolean[] {false, true}) {
            SameDiff sd = GemmaGraph.block(cfg, ckpt.weights(), 1, new GemmaGraph.Variant(perHead, false));
            PlannedGraph planned = new PlannedGraph(GemmaGraph.block(cfg, ckpt.weights(), 1, new GemmaGraph.Variant(perHead, false)),
                    GemmaGraph.blockOutput(1));
            PlannedGraph.Plan plan = null;
            for (int call = 0; call < 3; call++) { // plan, then replay on new inputs of the same shape
                INDArray x = Nd4j.randn(DataType.FLOAT, 2, 6, cfg.hiddenSize());
                int[][] pos = {{0, 1, 2, 3, 4, 5}, {0, 0, 0, 1, 2, 3}};
                float[] bias = new float[2 * 6 * 6];
                for (int r = 0; r < 2; r++) {
                    for (int q = 0; q < 6; q++) {
                        for (int k = 0; k < 6; k++) bias[(r * 6 + q) * 6 + k] = k <= q && (r == 0 || k >= 2) ? 0f : -1e9f;
                    }
                }
                Map<String, INDArray> inputs = segments.blockInputs(pos, bias).with(x);
                INDArray expected = sd.output(inputs, GemmaGraph.blockOutput(1)).get(GemmaGraph.blockOutput(1));
                INDArray got;
                if (plan == null) {
                    plan = planned.plan(inputs, new PlannedGraph.Arena(), null);
                    got = plan.firstOutputs().get(GemmaGraph.blockOutput(1));
                } else {
                    got = plan.run(inputs, null).get(GemmaGraph.blockOutput(1));
                }
                double err = expected.sub(got).amaxNumber().doubleValue(), scale = expected.amaxNumber().doubleValue();
                assertTrue(err <= 1e-6 * scale, "perHead " + perHead + " call " + call + ": max abs error " + err + " vs " + scale);
            }
        }
    }

    static Map<String, INDArray> run(List<int[]> tokens, Set<String> hooks, List<Intervention> interventions) {
        return model.runRaw(tokens, new LinkedHashSet<>(hooks), interventions);
    }

    static void assertSame(Map<String, INDArray> expected, Map<String, INDArray> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what);
        expected.forEach((h, e) -> {
            assertArrayEquals(e.shape(), actual.get(h).shape(), what + " " + h);
            assertArrayEquals(e.dup().data().asFloat(), actual.get(h).dup().data().asFloat(), what + " " + h);
        });
    }

    @Test
    void replaysGiveWhatThePlanningCallGave() {
        Set<String> all = new LinkedHashSet<>(HookPoints.all(4));
        all.removeIf(h -> h.endsWith("attn.hook_result")); // per-head variant separately below
        Map<String, INDArray> first = run(A, all, List.of()); // plans shape A
        Map<String, INDArray> otherShape = run(B, all, List.of());
        Map<String, INDArray> perHead = run(A, Set.of("blocks.*.attn.hook_result", "blocks.2.hook_resid_post"), List.of());
        Intervention zero = Intervention.at("blocks.1.hook_resid_mid").zero();
        Map<String, INDArray> ablated = run(A, Set.of("blocks.3.hook_resid_post"), List.of(zero));
        assertNotEquals(first.get("blocks.3.hook_resid_post").sub(ablated.get("blocks.3.hook_resid_post")).amaxNumber().doubleValue(), 0.0,
                "the intervention changes the forward");
        assertSame(first, run(A, all, List.of()), "shape A replayed after other shapes, variants and an intervention");
        assertSame(otherShape, run(B, all, List.of()), "shape B replayed");
        assertSame(perHead, run(A, Set.of("blocks.*.attn.hook_result", "blocks.2.hook_resid_post"), List.of()), "per-head variant replayed");
        assertSame(ablated, run(A, Set.of("blocks.3.hook_resid_post"), List.of(zero)), "intervention replayed");
        // last-position logits (no hooks: the head plan without full logits) equal the full logits' last position
        ForwardResult fr = model.run(ForwardRequest.of(A));
        ForwardResult again = model.run(ForwardRequest.of(A));
        assertArrayEquals(fr.lastLogits().data(), again.lastLogits().data());
        INDArray logits = first.get(GemmaGraph.LOGITS);
        for (int r = 0; r < A.size(); r++) {
            float[] last = logits.get(org.nd4j.linalg.indexing.NDArrayIndex.point(r), org.nd4j.linalg.indexing.NDArrayIndex.point(logits.size(1) - 1),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()).dup().data().asFloat();
            float[] got = fr.lastLogits().row(r);
            for (int v = 0; v < last.length; v++) assertEquals(last[v], got[v], 1e-5f * Math.max(1f, Math.abs(last[v])), "row " + r + " logit " + v);
        }
    }

    /** Greedy decoding as a plain loop of unpadded forwards (ties to the lowest id). */
    static List<int[]> manualGreedy(List<int[]> prompts, int steps, List<Intervention> interventions) {
        List<int[]> seqs = new java.util.ArrayList<>(prompts);
        List<int[]> produced = new java.util.ArrayList<>();
        for (int r = 0; r < prompts.size(); r++) produced.add(new int[0]);
        for (int step = 0; step < steps; step++) {
            ForwardResult fr = model.run(new ForwardRequest(seqs, Set.of(), interventions));
            for (int r = 0; r < seqs.size(); r++) {
                int next = GemmaModel.argmax(fr.lastLogits().row(r));
                int[] grown = java.util.Arrays.copyOf(seqs.get(r), seqs.get(r).length + 1);
                grown[grown.length - 1] = next;
                seqs.set(r, grown);
                int[] p = java.util.Arrays.copyOf(produced.get(r), produced.get(r).length + 1);
                p[p.length - 1] = next;
                produced.set(r, p);
            }
        }
        return produced;
    }

    @Test
    void paddedGenerationStepsGiveTheUnpaddedTokens() {
        float[] dir = new float[64];
        for (int i = 0; i < dir.length; i++) dir[i] = (float) Math.sin(i + 1.0);
        List<List<Intervention>> cases = List.of(List.of(),
                List.of(Intervention.at("blocks.1.hook_resid_pre").projectOut(dir)), // padded steps
                List.of(Intervention.at("blocks.2.hook_resid_post").positions(0).add(dir, 0.5f))); // positions: unpadded
        for (List<Intervention> ivs : cases) {
            List<int[]> expected = manualGreedy(A, 12, ivs);
            List<int[]> got = model.generate(new GenerationRequest(A, 12, ivs), Set.of()); // no stop ids: all 12 steps
            for (int r = 0; r < A.size(); r++) assertArrayEquals(expected.get(r), got.get(r), "row " + r + " with " + ivs.size() + " interventions");
        }
    }
}
