package org.refusallab.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;

/** Intervention semantics on hand-made cases, each checked against what the edit must mean, not against the code path. */
class InterventionSemanticsTest {

    private static final int[] A = {2, 5, 9, 13, 21, 8, 30};
    private static final int[] B = {2, 17, 4, 33, 11, 6, 25};
    private static final int D = RandomGemma.CONFIG.hiddenSize();

    private final GemmaReference model = RandomGemma.model(7);
    private final ReferenceRun base = model.run(List.of(A, B), List.of());
    private final Random rnd = new Random(99);

    @Test
    void projectOutRemovesTheComponentAndLeavesUpstreamUntouched() {
        float[] r = RandomGemma.gaussian(rnd, D, 1);
        Intervention iv = Intervention.at("blocks.1.hook_resid_pre").projectOut(r);
        ReferenceRun run = model.run(List.of(A, B), List.of(iv));
        DTensor x = run.hook("blocks.1.hook_resid_pre");
        double[] unit = unit(iv.direction()); // the API stores r/|r| in float32; the reference renormalises it in double
        for (int b = 0; b < 2; b++) {
            for (int p = 0; p < A.length; p++) {
                assertEquals(0, dot(x.row(b, p), unit), 1e-12 * norm(x.row(b, p)), "x.r at " + b + "," + p);
            }
        }
        assertEquals(base.hook("hook_embed"), run.hook("hook_embed"));
        for (String h : model.hookNames()) {
            if (h.startsWith("blocks.0.")) assertEquals(base.hook(h), run.hook(h), h + " is upstream of the edit");
        }
        // downstream reads the edited value
        DTensor expectedMid = plus(x, run.hook("blocks.1.hook_attn_out"));
        assertTrue(run.hook("blocks.1.hook_resid_mid").maxAbsDiff(expectedMid) < 1e-12 * expectedMid.maxAbs());
        assertTrue(run.logits().maxAbsDiff(base.logits()) > 1e-3, "projecting out a random direction changes the logits");
    }

    @Test
    void clampSetsTheComponentOnlyWhereAsked() {
        float[] r = RandomGemma.gaussian(rnd, D, 1);
        Intervention iv = Intervention.at("blocks.0.hook_resid_post").rows(1).positions(2).clamp(r, 3.5f);
        ReferenceRun run = model.run(List.of(A, B), List.of(iv));
        DTensor x = run.hook("blocks.0.hook_resid_post"), x0 = base.hook("blocks.0.hook_resid_post");
        double[] unit = unit(iv.direction());
        assertEquals(3.5, dot(x.row(1, 2), unit), 1e-12);
        // the orthogonal complement is untouched
        double[] edited = x.row(1, 2), original = x0.row(1, 2);
        double de = dot(edited, unit), d0 = dot(original, unit);
        for (int i = 0; i < D; i++) assertEquals(original[i] - d0 * unit[i], edited[i] - de * unit[i], 1e-12);
        for (int b = 0; b < 2; b++) {
            for (int p = 0; p < A.length; p++) {
                if (b == 1 && p == 2) continue;
                assertEquals(java.util.Arrays.toString(x0.row(b, p)), java.util.Arrays.toString(x.row(b, p)), "untouched at " + b + "," + p);
            }
        }
    }

    @Test
    void replacingWithTheRunsOwnCacheChangesNothingButFloatRounding() {
        List<String> hooks = List.of("blocks.0.hook_resid_pre", "blocks.1.attn.hook_q", "blocks.0.attn.hook_k", "blocks.0.attn.hook_attn_scores",
                "blocks.1.attn.hook_pattern", "blocks.0.attn.hook_z", "blocks.1.attn.hook_result", "blocks.0.mlp.hook_post",
                "blocks.1.ln1.hook_scale", "ln_final.hook_normalized", "logits");
        List<Intervention> edits = new ArrayList<>();
        for (String h : hooks) edits.add(Intervention.at(h).replaceWith(base.hook(h).toTensor()));
        ReferenceRun run = model.run(List.of(A, B), edits);
        for (String h : model.hookNames()) {
            double rel = run.maxAbsDiffAtRealPositions(h, base.hook(h).toTensor()) / base.maxAbsAtRealPositions(h);
            // float32 rounding of the source (6e-8) and of the comparison copy, amplified a little downstream
            assertTrue(rel < 1e-6, h + ": relative change " + rel);
        }
    }

    @Test
    void zeroingTheAttentionOutputEqualsAModelWithoutThatAttention() {
        Map<String, float[]> w = RandomGemma.weights(7);
        w.put("model.layers.1.self_attn.o_proj.weight", new float[w.get("model.layers.1.self_attn.o_proj.weight").length]);
        ReferenceRun skipped = new GemmaReference(RandomGemma.CONFIG, w).run(List.of(A, B), List.of());
        ReferenceRun zeroed = model.run(List.of(A, B), List.of(Intervention.at("blocks.1.hook_attn_out").zero()));
        assertEquals(zeroed.hook("blocks.1.hook_resid_pre"), zeroed.hook("blocks.1.hook_resid_mid"));
        for (String h : model.hookNames()) {
            if (h.equals("blocks.1.attn.hook_result")) continue; // the heads still compute; their sum is discarded
            assertEquals(0.0, zeroed.hook(h).maxAbsDiff(skipped.hook(h)), h);
        }
    }

    @Test
    void patchingOneHeadsResultShiftsTheAttentionOutputByThatHeadsDifference() {
        int[] c = {2, 3, 3, 7, 12, 19, 1};
        ReferenceRun other = model.run(List.of(A, c), List.of());
        Tensor source = other.hook("blocks.0.attn.hook_result").toTensor(); // [batch, pos, head, d_model]
        ReferenceRun run = model.run(List.of(A, B), List.of(Intervention.at("blocks.0.attn.hook_result").rows(0).heads(2).replaceWith(source).fromRows(1)));
        DTensor out = run.hook("blocks.0.hook_attn_out"), out0 = base.hook("blocks.0.hook_attn_out");
        DTensor res0 = base.hook("blocks.0.attn.hook_result");
        for (int p = 0; p < A.length; p++) {
            for (int i = 0; i < D; i++) {
                double expectedShift = source.get(1, p, 2, i) - res0.get(0, p, 2, i);
                assertEquals(expectedShift, out.get(0, p, i) - out0.get(0, p, i), 1e-12 * out0.maxAbs(), "pos " + p + " dim " + i);
                assertEquals(out0.get(1, p, i), out.get(1, p, i), 0.0, "row 1 is not patched");
            }
            for (int h = 0; h < RandomGemma.CONFIG.numHeads(); h++) {
                if (h == 2) continue;
                assertEquals(java.util.Arrays.toString(res0.row(0, p, h)), java.util.Arrays.toString(run.hook("blocks.0.attn.hook_result").row(0, p, h)));
            }
        }
    }

    @Test
    void replacingAcrossRowsMovesTheRowsComputation() {
        Tensor source = base.hook("blocks.0.hook_resid_pre").toTensor();
        ReferenceRun swapped = model.run(List.of(A, B), List.of(Intervention.at("blocks.0.hook_resid_pre").rows(0, 1).replaceWith(source).fromRows(1, 0)));
        DTensor l = swapped.logits(), l0 = base.logits();
        int vocab = l.dim(2);
        double scale = l0.maxAbs();
        for (int p = 0; p < A.length; p++) {
            for (int v = 0; v < vocab; v++) {
                assertEquals(l0.get(1, p, v), l.get(0, p, v), 1e-6 * scale);
                assertEquals(l0.get(0, p, v), l.get(1, p, v), 1e-6 * scale);
            }
        }
    }

    @Test
    void patternPositionsIndexTheQueryAxisAndHeadsTheHeadAxis() {
        ReferenceRun run = model.run(List.of(A, B), List.of(Intervention.at("blocks.0.attn.hook_pattern").positions(3).heads(1).zero()));
        DTensor pattern = run.hook("blocks.0.attn.hook_pattern"), z = run.hook("blocks.0.attn.hook_z");
        DTensor pattern0 = base.hook("blocks.0.attn.hook_pattern"), z0 = base.hook("blocks.0.attn.hook_z");
        for (int b = 0; b < 2; b++) {
            for (int h = 0; h < 4; h++) {
                for (int p = 0; p < A.length; p++) {
                    boolean hit = h == 1 && p == 3;
                    double[] zRow = z.row(b, p, h);
                    if (hit) {
                        assertEquals(0.0, DTensor.zeros(8).maxAbsDiff(new DTensor(new int[] {8}, zRow)));
                        assertEquals(0.0, new DTensor(new int[] {A.length}, pattern.row(b, h, p)).maxAbs());
                    } else {
                        assertEquals(java.util.Arrays.toString(z0.row(b, p, h)), java.util.Arrays.toString(zRow), b + "," + p + "," + h);
                        assertEquals(java.util.Arrays.toString(pattern0.row(b, h, p)), java.util.Arrays.toString(pattern.row(b, h, p)));
                    }
                }
            }
        }
    }

    @Test
    void queryHeadsShareKeyValueHeadsInGroups() {
        // 4 query heads on 2 kv heads: query heads 2 and 3 read kv head 1
        ReferenceRun run = model.run(List.of(A, B), List.of(Intervention.at("blocks.0.attn.hook_v").heads(1).zero()));
        DTensor z = run.hook("blocks.0.attn.hook_z"), z0 = base.hook("blocks.0.attn.hook_z");
        for (int b = 0; b < 2; b++) {
            for (int p = 0; p < A.length; p++) {
                for (int h = 0; h < 4; h++) {
                    if (h >= 2) assertEquals(0.0, new DTensor(new int[] {8}, z.row(b, p, h)).maxAbs(), "head " + h);
                    else assertEquals(java.util.Arrays.toString(z0.row(b, p, h)), java.util.Arrays.toString(z.row(b, p, h)), "head " + h);
                }
            }
        }
        ReferenceRun noKey = model.run(List.of(A, B), List.of(Intervention.at("blocks.0.attn.hook_k").heads(0).zero()));
        DTensor s = noKey.hook("blocks.0.attn.hook_attn_scores"), s0 = base.hook("blocks.0.attn.hook_attn_scores");
        for (int h = 0; h < 4; h++) {
            for (int q = 0; q < A.length; q++) {
                for (int k = 0; k <= q; k++) {
                    if (h < 2) assertEquals(0.0, s.get(0, h, q, k), "head " + h + " reads the zeroed key");
                    else assertEquals(s0.get(0, h, q, k), s.get(0, h, q, k), 0.0);
                }
                for (int k = q + 1; k < A.length; k++) assertEquals(GemmaReference.MASKED_SCORE, s.get(0, h, q, k), "future key");
            }
        }
    }

    @Test
    void addShiftsByTheVectorAsGivenAndDownstreamFollows() {
        float[] v = RandomGemma.gaussian(rnd, D, 2);
        ReferenceRun run = model.run(List.of(A, B), List.of(Intervention.at("blocks.1.hook_mlp_out").positions(0, 4).add(v, 2.5f)));
        DTensor m = run.hook("blocks.1.hook_mlp_out"), m0 = base.hook("blocks.1.hook_mlp_out");
        for (int b = 0; b < 2; b++) {
            for (int p = 0; p < A.length; p++) {
                for (int i = 0; i < D; i++) {
                    double shift = (p == 0 || p == 4) ? 2.5 * v[i] : 0.0;
                    assertEquals(m0.get(b, p, i) + shift, m.get(b, p, i), 1e-12);
                }
            }
        }
        DTensor post = plus(run.hook("blocks.1.hook_resid_mid"), m);
        assertEquals(0.0, run.hook("blocks.1.hook_resid_post").maxAbsDiff(post));
    }

    @Test
    void interventionsApplyInListOrder() {
        float[] r = RandomGemma.gaussian(rnd, D, 1);
        float[] v = RandomGemma.gaussian(rnd, D, 1);
        String hook = "blocks.0.hook_resid_mid";
        Intervention add = Intervention.at(hook).add(v, 1f), project = Intervention.at(hook).projectOut(r);
        ReferenceRun addThenProject = model.run(List.of(A, B), List.of(add, project));
        ReferenceRun projectThenAdd = model.run(List.of(A, B), List.of(project, add));
        double[] unit = unit(project.direction());
        double vr = dot(toDouble(v), unit);
        assertTrue(Math.abs(vr) > 0.1, "the test needs v with a component along r");
        for (int p = 0; p < A.length; p++) {
            assertEquals(0.0, dot(addThenProject.hook(hook).row(0, p), unit), 1e-12);
            assertEquals(vr, dot(projectThenAdd.hook(hook).row(0, p), unit), 1e-12);
        }
    }

    @Test
    void queriesAreRecordedBeforeTheRotaryEmbedding() {
        Map<String, float[]> w = RandomGemma.weights(7);
        float[] wq = w.get("model.layers.1.self_attn.q_proj.weight"), ln1 = w.get("model.layers.1.input_layernorm.weight");
        DTensor x = base.hook("blocks.1.hook_resid_pre"), q = base.hook("blocks.1.attn.hook_q");
        for (int p : new int[] {0, 3, 6}) {
            double[] row = x.row(1, p);
            double meanSq = dot(row, row) / D;
            double scale = Math.sqrt(meanSq + 1e-6);
            assertEquals(scale, base.hook("blocks.1.ln1.hook_scale").get(1, p, 0), 1e-14 * scale);
            for (int o = 0; o < 32; o++) {
                double acc = 0;
                for (int i = 0; i < D; i++) acc += wq[o * D + i] * row[i] / scale * (1.0 + ln1[i]);
                assertEquals(acc, q.get(1, p, o / 8, o % 8), 1e-12, "q at position " + p + " (unrotated)");
            }
        }
    }

    @Test
    void rotaryScoresDependOnlyOnTheRelativePosition() {
        // one token repeated: layer-0 queries and keys are equal at every position before rotation
        int[] same = {5, 5, 5, 5, 5, 5};
        DTensor s = model.run(List.of(same), List.of()).hook("blocks.0.attn.hook_attn_scores");
        for (int h = 0; h < 4; h++) {
            for (int q = 0; q + 1 < same.length; q++) {
                for (int k = 0; k <= q; k++) assertEquals(s.get(0, h, q, k), s.get(0, h, q + 1, k + 1), 1e-12);
            }
            assertNotEquals(s.get(0, h, 5, 5), s.get(0, h, 5, 0), 1e-6, "positions matter");
        }
    }

    @Test
    void leftPaddingLeavesRealPositionsAsAnUnpaddedRun() {
        int[] shortRow = {2, 9, 14, 3};
        ReferenceRun padded = model.run(List.of(shortRow, B), List.of());
        ReferenceRun alone = model.run(List.of(shortRow), List.of());
        int pad = B.length - shortRow.length;
        assertEquals(pad, padded.padding()[0]);
        for (String h : List.of("blocks.1.hook_resid_post", "ln_final.hook_scale", "logits", "blocks.1.attn.hook_z")) {
            DTensor a = alone.hook(h), p = padded.hook(h);
            for (int pos = 0; pos < shortRow.length; pos++) {
                DTensor want = new DTensor(new int[] {a.row(0, pos).length}, a.row(0, pos));
                assertTrue(want.maxAbsDiff(new DTensor(want.shape(), p.row(0, pos + pad))) < 1e-12 * a.maxAbs(), h + " at " + pos);
            }
        }
        DTensor pat = padded.hook("blocks.1.attn.hook_pattern"), pat1 = alone.hook("blocks.1.attn.hook_pattern");
        for (int h = 0; h < 4; h++) {
            for (int q = 0; q < B.length; q++) {
                for (int k = 0; k < B.length; k++) {
                    double want = (q < pad || k < pad) ? 0.0 : pat1.get(0, h, q - pad, k - pad);
                    assertEquals(want, pat.get(0, h, q, k), 1e-14, "pattern at head " + h + ", " + q + "," + k);
                }
            }
        }
    }

    @Test
    void badInterventionsAndInputsFailWithClearErrors() {
        List<int[]> t = List.of(A, B);
        float[] r = RandomGemma.gaussian(rnd, D, 1);
        assertMessage("unknown hook 'blocks.9.hook_resid_pre'", () -> model.run(t, List.of(Intervention.at("blocks.9.hook_resid_pre").zero())));
        assertMessage("has no head axis", () -> model.run(t, List.of(Intervention.at("blocks.0.hook_resid_pre").heads(0).zero())));
        assertMessage("direction of length 5", () -> model.run(t, List.of(Intervention.at("blocks.0.hook_resid_pre").add(new float[5], 1f))));
        assertMessage("does not match the hook's shape", () -> model.run(t, List.of(
                Intervention.at("blocks.0.hook_resid_pre").replaceWith(Tensor.zeros(2, 7, 3)))));
        assertMessage("row 2 is outside [0, 2)", () -> model.run(t, List.of(Intervention.at("hook_embed").rows(2).projectOut(r))));
        assertMessage("head 4 is outside [0, 4)", () -> model.run(t, List.of(Intervention.at("blocks.0.attn.hook_z").heads(4).zero())));
        assertMessage("token id 40 at row 0, position 1", () -> model.run(List.of(new int[] {2, 40}), List.of()));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
    }

    static double[] unit(float[] r) {
        double[] u = toDouble(r);
        double n = norm(u);
        for (int i = 0; i < u.length; i++) u[i] /= n;
        return u;
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }

    static DTensor plus(DTensor a, DTensor b) {
        DTensor c = DTensor.zeros(a.shape());
        for (int i = 0; i < c.data().length; i++) c.data()[i] = a.data()[i] + b.data()[i];
        return c;
    }
}
