package org.refusallab.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.Intervention;
import org.refusallab.engine.graph.HookPoints;
import org.refusallab.testkit.GreedyComparison;

/**
 * The graph reproduces every tensor transformers computed for the tiny-gemma2 fixture (sliding window 4 on even
 * layers, soft-caps 2 and 3, query_pre_attn_scalar 24, 4 heads on 2 kv heads), within 1e-4 of each tensor's max
 * |value|. The fixture's {@code *_raw} values (before the post-norms) are not TransformerLens hooks: they are checked
 * as the sum of the engine's {@code attn.hook_result} and as its {@code mlp.hook_post} times W_down^T, and through the
 * post-norms' {@code hook_scale}.
 */
class Gemma2FixtureForwardTest {

    static final double TOLERANCE = 1e-4;
    static FixtureReference ref;
    static GemmaModel model;
    /** Worst relative error per hook family over the tests of this class, printed at the end. */
    static final Map<String, Double> WORST = new TreeMap<>();

    @BeforeAll
    static void load() throws Exception {
        ref = new FixtureReference("tiny-gemma2");
        model = Engine.load(ref.checkpoint(), null); // hidden_activation gelu_pytorch_tanh
    }

    @AfterAll
    static void close() {
        System.out.println("tiny-gemma2 engine, worst |engine - HF| / max|HF| per hook family: " + WORST);
        model.close();
    }

    static void assertClose(String what, INDArray expected, INDArray actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        double scale = expected.amaxNumber().doubleValue();
        double err = expected.sub(actual).amaxNumber().doubleValue();
        double rel = err / Math.max(scale, 1e-6);
        WORST.merge(what.replaceFirst("^\\w+\\.", "").replaceFirst(" row \\d+$", "").replaceFirst("^blocks\\.\\d+\\.", "blocks.L."), rel, Math::max);
        assertTrue(rel <= TOLERANCE, what + ": max abs error " + err + " vs max |ref| " + scale);
    }

    /** The engine's hooks plus the fixture's *_raw values derived from them, and the post-norm scales expected from the fixture's raw values. */
    static Map<String, INDArray[]> pairs(String caseName, List<int[]> ids) {
        List<String> hooks = ref.hooksOf(caseName);
        Set<String> ask = new LinkedHashSet<>();
        for (String h : hooks) if (!h.endsWith("_raw")) ask.add(h);
        ask.addAll(Set.of("blocks.*.mlp.hook_post", "blocks.*.ln1_post.hook_scale", "blocks.*.ln2_post.hook_scale"));
        Map<String, INDArray> got = model.runRaw(ids, ask, List.of());
        Map<String, INDArray[]> out = new LinkedHashMap<>();
        for (String h : hooks) {
            INDArray actual;
            if (h.endsWith("hook_attn_out_raw")) {
                actual = got.get(h.replace("hook_attn_out_raw", "attn.hook_result")).sum(2);
            } else if (h.endsWith("hook_mlp_out_raw")) {
                int layer = Integer.parseInt(h.split("\\.")[1]);
                INDArray post = got.get("blocks." + layer + ".mlp.hook_post");
                INDArray down = model.weights().get("model.layers." + layer + ".mlp.down_proj.weight"); // [d, d_mlp]
                actual = post.reshape(-1, post.size(2)).mmul(down.transpose()).reshape(post.size(0), post.size(1), down.size(0));
            } else {
                actual = got.get(h);
            }
            out.put(h, new INDArray[] {ref.tensor(caseName + "." + h), actual});
        }
        for (int l = 0; l < 4; l++) {
            for (String[] norm : new String[][] {{"ln1_post", "hook_attn_out_raw"}, {"ln2_post", "hook_mlp_out_raw"}}) {
                INDArray raw = ref.tensor(caseName + ".blocks." + l + "." + norm[1]).castTo(DataType.DOUBLE);
                INDArray scale = Nd4j.math().sqrt(raw.mul(raw).mean(true, 2).add(1e-6)).castTo(DataType.FLOAT);
                String hook = "blocks." + l + "." + norm[0] + ".hook_scale";
                out.put(hook, new INDArray[] {scale, got.get(hook)});
            }
        }
        return out;
    }

    @Test
    void batchCaseMatchesEveryTensor() {
        List<int[]> ids = FixtureReference.rows(ref.json.at("/cases/batch/input_ids"));
        Map<String, INDArray[]> pairs = pairs("batch", ids);
        pairs.forEach((h, p) -> assertClose("batch." + h, p[0], p[1]));
        assertEquals(4 * 9 + 3 + 8, pairs.size());
    }

    @Test
    void paddedCaseMatchesAtRealPositions() {
        List<int[]> padded = FixtureReference.rows(ref.json.at("/cases/padded/input_ids"));
        List<int[]> mask = FixtureReference.rows(ref.json.at("/cases/padded/attention_mask"));
        List<int[]> ids = new ArrayList<>();
        int[] pads = new int[padded.size()];
        for (int r = 0; r < padded.size(); r++) {
            pads[r] = (int) Arrays.stream(mask.get(r)).filter(m -> m == 0).count();
            ids.add(Arrays.copyOfRange(padded.get(r), pads[r], padded.get(r).length)); // the engine pads itself
        }
        assertEquals(3, pads[1]);
        pairs("padded", ids).forEach((h, p) -> {
            boolean perQuery = HookPoints.layout(h) == HookPoints.Layout.HEAD_QUERY;
            for (int r = 0; r < padded.size(); r++) {
                int len = (int) p[0].size(perQuery ? 2 : 1);
                if (perQuery) {
                    assertClose("padded." + h + " row " + r,
                            p[0].get(NDArrayIndex.point(r), NDArrayIndex.all(), NDArrayIndex.interval(pads[r], len), NDArrayIndex.interval(pads[r], len)),
                            p[1].get(NDArrayIndex.point(r), NDArrayIndex.all(), NDArrayIndex.interval(pads[r], len), NDArrayIndex.interval(pads[r], len)));
                } else {
                    assertClose("padded." + h + " row " + r, p[0].get(NDArrayIndex.point(r), NDArrayIndex.interval(pads[r], len)),
                            p[1].get(NDArrayIndex.point(r), NDArrayIndex.interval(pads[r], len)));
                }
            }
        });
    }

    @Test
    void aLeftPaddedRowEqualsItsUnpaddedRunOnLocalLayersToo() {
        List<int[]> ids = FixtureReference.rows(ref.json.at("/cases/batch/input_ids"));
        int[] shortRow = Arrays.copyOf(ids.get(1), 7); // 5 pads: more than the window of 4
        Set<String> hooks = Set.of("blocks.0.attn.hook_pattern", "blocks.2.hook_resid_post");
        Map<String, INDArray> alone = model.runRaw(List.of(shortRow), hooks, List.of());
        Map<String, INDArray> inBatch = model.runRaw(List.of(ids.get(0), shortRow), hooks, List.of());
        assertClose("padded row vs alone: logits", alone.get("logits").get(NDArrayIndex.point(0)),
                inBatch.get("logits").get(NDArrayIndex.point(1), NDArrayIndex.interval(5, 12)));
        assertClose("padded row vs alone: resid_post", alone.get("blocks.2.hook_resid_post").get(NDArrayIndex.point(0)),
                inBatch.get("blocks.2.hook_resid_post").get(NDArrayIndex.point(1), NDArrayIndex.interval(5, 12)));
        assertClose("padded row vs alone: local pattern", alone.get("blocks.0.attn.hook_pattern").get(NDArrayIndex.point(0)),
                inBatch.get("blocks.0.attn.hook_pattern").get(NDArrayIndex.point(1), NDArrayIndex.all(), NDArrayIndex.interval(5, 12), NDArrayIndex.interval(5, 12)));
    }

    @Test
    void localLayersAttendWithinTheWindowOnly() {
        List<int[]> ids = FixtureReference.rows(ref.json.at("/cases/batch/input_ids"));
        Map<String, INDArray> got = model.runRaw(ids, Set.of("blocks.*.attn.hook_pattern"), List.of());
        for (int layer = 0; layer < 4; layer++) {
            INDArray p = got.get("blocks." + layer + ".attn.hook_pattern");
            for (int q = 0; q < 12; q++) {
                for (int k = 0; k <= q; k++) {
                    boolean visible = layer % 2 == 1 || q - k < 4;
                    assertEquals(visible, p.getDouble(1, 2, q, k) > 0, "layer " + layer + " query " + q + " key " + k);
                }
            }
        }
    }

    static Function<List<int[]>, double[][]> lastLogits(GemmaModel m, List<Intervention> ivs) {
        return seqs -> {
            var last = m.run(new ForwardRequest(seqs, Set.of(), ivs)).lastLogits();
            double[][] rows = new double[seqs.size()][];
            for (int r = 0; r < rows.length; r++) {
                float[] f = last.row(r);
                rows[r] = new double[f.length];
                for (int i = 0; i < f.length; i++) rows[r][i] = f[i];
            }
            return rows;
        };
    }

    @Test
    void greedyTokensMatchWhereTheMarginAllows() {
        List<int[]> prompts = FixtureReference.rows(ref.json.at("/cases/greedy/prompt_ids"));
        List<int[]> expected = FixtureReference.rows(ref.json.at("/cases/greedy/generated_ids"));
        int n = ref.json.at("/cases/greedy/new_tokens").asInt();
        GreedyComparison.Result r = GreedyComparison.compare(lastLogits(model, List.of()), prompts, expected, 1e-4);
        System.out.println("tiny-gemma2 greedy (engine): " + r.compared() + " steps compared, near-ties " + r.nearTies()
                + ", min top-2 margin " + r.minMargin());
        assertEquals(List.of(), r.mismatches());
        assertEquals(2 * n, r.compared() + r.nearTies().size());
        List<int[]> free = model.generate(new GenerationRequest(prompts, n, List.of()), Set.of());
        for (int row = 0; row < prompts.size(); row++) {
            int until = r.firstNearTie(row, n);
            assertArrayEquals(Arrays.copyOf(expected.get(row), until), Arrays.copyOf(free.get(row), until), "greedy row " + row);
        }
    }
}
