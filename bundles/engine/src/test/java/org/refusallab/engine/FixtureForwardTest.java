package org.refusallab.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.engine.graph.HookPoints;

/** The graph reproduces every tensor transformers computed for the tiny-gemma fixture, within 1e-4 of each tensor's max |value|. */
class FixtureForwardTest {

    static FixtureReference ref;
    static GemmaModel model;

    @BeforeAll
    static void load() throws Exception {
        ref = new FixtureReference("tiny-gemma");
        // transformers 5 runs exact GELU for hidden_act "gelu"; gemma-2b-it's own default is tanh.
        model = Engine.load(ref.checkpoint(), "exact");
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static void assertClose(String what, INDArray expected, INDArray actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        double scale = expected.amaxNumber().doubleValue();
        double err = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(err <= 1e-4 * Math.max(scale, 1e-6), what + ": max abs error " + err + " vs max |ref| " + scale);
    }

    @Test
    void batchCaseMatchesEveryTensor() {
        List<int[]> ids = FixtureReference.rows(ref.json.at("/cases/batch/input_ids"));
        List<String> hooks = ref.hooksOf("batch");
        Map<String, INDArray> got = model.runRaw(ids, new LinkedHashSet<>(hooks), List.of());
        for (String h : hooks) assertClose("batch." + h, ref.tensor("batch." + h), got.get(h));
        assertTrue(hooks.size() >= 4 * 7 + 3, "fixture lists its hooks: " + hooks.size());
    }

    @Test
    void paddedCaseMatchesAtRealPositions() {
        List<int[]> padded = FixtureReference.rows(ref.json.at("/cases/padded/input_ids"));
        List<int[]> mask = FixtureReference.rows(ref.json.at("/cases/padded/attention_mask"));
        // The engine pads itself: hand it the unpadded rows.
        List<int[]> ids = new ArrayList<>();
        for (int r = 0; r < padded.size(); r++) {
            int pad = (int) Arrays.stream(mask.get(r)).filter(m -> m == 0).count();
            ids.add(Arrays.copyOfRange(padded.get(r), pad, padded.get(r).length));
        }
        List<String> hooks = ref.hooksOf("padded");
        Map<String, INDArray> got = model.runRaw(ids, new LinkedHashSet<>(hooks), List.of());
        for (String h : hooks) {
            INDArray expected = ref.tensor("padded." + h), actual = got.get(h);
            assertArrayEquals(expected.shape(), actual.shape(), h);
            for (int r = 0; r < padded.size(); r++) {
                int pad = (int) Arrays.stream(mask.get(r)).filter(m -> m == 0).count();
                int len = (int) expected.size(HookPoints.layout(h) == HookPoints.Layout.HEAD_QUERY ? 2 : 1);
                if (HookPoints.layout(h) == HookPoints.Layout.HEAD_QUERY) {
                    assertClose("padded." + h + " row " + r,
                            expected.get(NDArrayIndex.point(r), NDArrayIndex.all(), NDArrayIndex.interval(pad, len), NDArrayIndex.interval(pad, len)),
                            actual.get(NDArrayIndex.point(r), NDArrayIndex.all(), NDArrayIndex.interval(pad, len), NDArrayIndex.interval(pad, len)));
                } else {
                    assertClose("padded." + h + " row " + r,
                            expected.get(NDArrayIndex.point(r), NDArrayIndex.interval(pad, len)),
                            actual.get(NDArrayIndex.point(r), NDArrayIndex.interval(pad, len)));
                }
            }
        }
    }

    @Test
    void paddedRowEqualsUnpaddedRun() {
        List<int[]> ids = FixtureReference.rows(ref.json.at("/cases/batch/input_ids"));
        int[] shortRow = Arrays.copyOf(ids.get(1), 9);
        INDArray alone = model.runRaw(List.of(shortRow), Set.of(), List.of()).get("logits");
        INDArray inBatch = model.runRaw(List.of(ids.get(0), shortRow), Set.of(), List.of()).get("logits");
        assertClose("padded row vs alone", alone.get(NDArrayIndex.point(0)), inBatch.get(NDArrayIndex.point(1), NDArrayIndex.interval(3, 12)));
    }

    @Test
    void greedyTokensMatch() {
        List<int[]> prompts = FixtureReference.rows(ref.json.at("/cases/greedy/prompt_ids"));
        List<int[]> expected = FixtureReference.rows(ref.json.at("/cases/greedy/generated_ids"));
        int n = ref.json.at("/cases/greedy/new_tokens").asInt();
        List<int[]> got = model.generate(new GenerationRequest(prompts, n, List.of()), Set.of());
        for (int r = 0; r < prompts.size(); r++) assertArrayEquals(expected.get(r), got.get(r), "greedy row " + r);
    }

    @Test
    void lastLogitsEqualFullLogitsAtLastPosition() {
        List<int[]> ids = FixtureReference.rows(ref.json.at("/cases/batch/input_ids"));
        var fr = model.run(new org.refusallab.api.model.ForwardRequest(ids, Set.of("logits"), List.of()));
        var full = fr.hook("logits");
        for (int r = 0; r < ids.size(); r++) {
            assertArrayEquals(full.row(r, fr.paddedLength() - 1), fr.lastLogits().row(r), 1e-5f);
        }
        assertEquals(2, fr.lastLogits().dim(0));
    }
}
