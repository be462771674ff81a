package org.refusallab.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.Intervention;

/** Greedy generation with left padding and stop tokens, and directional ablation against weight orthogonalization. */
class GenerationAndAblationTest {

    private static final int D = RandomGemma.CONFIG.hiddenSize();
    private static final int[] P1 = {2, 5, 9, 13};
    private static final int[] P2 = {2, 17, 4, 33, 11, 6, 25};
    private static final int[] P3 = {2, 30};

    private final GemmaReference model = RandomGemma.model(7);

    @Test
    void batchedGenerationOfDifferentLengthsEqualsOnePromptAtATime() {
        List<int[]> batched = model.generate(List.of(P1, P2, P3), 6, List.of());
        int[][] prompts = {P1, P2, P3};
        for (int i = 0; i < prompts.length; i++) {
            assertEquals(6, batched.get(i).length);
            assertArrayEquals(model.generate(List.of(prompts[i]), 6, List.of()).get(0), batched.get(i), "prompt " + i);
        }
    }

    @Test
    void eachGeneratedTokenIsTheArgmaxOfAFullForward() {
        int[] generated = model.generate(List.of(P2), 5, List.of()).get(0);
        int[] sequence = concat(P2, generated);
        DTensor logits = model.run(List.of(sequence), List.of()).logits();
        for (int i = 0; i < generated.length; i++) {
            assertEquals(argmax(logits.row(0, P2.length - 1 + i)), generated[i], "step " + i);
        }
    }

    @Test
    void aStopTokenEndsOnlyItsOwnRow() {
        List<int[]> free = model.generate(List.of(P1, P2), 6, List.of());
        int stop = free.get(0)[1]; // row 0 stops after its second token
        List<int[]> stopped = model.generate(new GenerationRequest(List.of(P1, P2), 6, List.of()), 1, stop);
        assertArrayEquals(truncateAfter(free.get(0), stop), stopped.get(0));
        assertEquals(stop, stopped.get(0)[stopped.get(0).length - 1], "the stop token is kept as the last token");
        assertTrue(stopped.get(0).length < 6, "row 0 stopped early");
        assertArrayEquals(truncateAfter(free.get(1), stop), stopped.get(1), "row 1 continues unaffected");
    }

    @Test
    void interventionsWithoutPositionsActOnGeneratedTokensToo() {
        float[] r = RandomGemma.gaussian(new Random(5), D, 1);
        List<Intervention> ablate = new ArrayList<>();
        for (int l = 0; l < RandomGemma.CONFIG.numLayers(); l++) ablate.add(Intervention.at("blocks." + l + ".hook_resid_pre").projectOut(r));
        List<int[]> generated = model.generate(List.of(P1, P2), 5, ablate);
        for (int row = 0; row < 2; row++) {
            int[] prompt = row == 0 ? P1 : P2;
            DTensor logits = model.run(List.of(concat(prompt, generated.get(row))), ablate).logits();
            for (int i = 0; i < generated.get(row).length; i++) {
                assertEquals(argmax(logits.row(0, prompt.length - 1 + i)), generated.get(row)[i], "row " + row + " step " + i);
            }
        }
        // the check can tell: ablating only the prompt's positions generates something else here
        List<Intervention> promptOnly = new ArrayList<>();
        for (Intervention iv : ablate) promptOnly.add(Intervention.at(iv.hook()).positions(0, 1, 2, 3).projectOut(r));
        assertFalse(Arrays.equals(model.generate(List.of(P1), 5, ablate).get(0), model.generate(List.of(P1), 5, promptOnly).get(0)));
    }

    /**
     * Projecting r out of the residual stream everywhere equals removing r from every matrix that writes to it
     * (embedding, o_proj, down_proj): Arditi et al.'s weight orthogonalization. Compared up to the final norm,
     * because the tied embedding would also change the unembedding.
     */
    @Test
    void directionalAblationEqualsWeightOrthogonalization() {
        float[] r = RandomGemma.gaussian(new Random(11), D, 1);
        double[] u = InterventionSemanticsTest.unit(Intervention.unit(r));
        List<Intervention> ablate = new ArrayList<>();
        for (int l = 0; l < RandomGemma.CONFIG.numLayers(); l++) {
            for (String h : List.of("hook_resid_pre", "hook_resid_mid", "hook_resid_post")) {
                ablate.add(Intervention.at("blocks." + l + "." + h).projectOut(r));
            }
        }
        Map<String, float[]> w = RandomGemma.weights(7);
        orthogonalizeRows(w.get("model.embed_tokens.weight"), D, u);
        for (int l = 0; l < RandomGemma.CONFIG.numLayers(); l++) {
            orthogonalizeColumns(w.get("model.layers." + l + ".self_attn.o_proj.weight"), D, u);
            orthogonalizeColumns(w.get("model.layers." + l + ".mlp.down_proj.weight"), D, u);
        }
        ReferenceRun ablated = model.run(List.of(P2, P1), ablate);
        ReferenceRun orthogonal = new GemmaReference(RandomGemma.CONFIG, w).run(List.of(P2, P1), List.of());
        String last = "blocks." + (RandomGemma.CONFIG.numLayers() - 1) + ".hook_resid_post";
        for (String h : List.of(last, "ln_final.hook_scale", "blocks.1.attn.hook_pattern")) {
            double rel = ablated.maxAbsDiffAtRealPositions(h, orthogonal.hook(h).toTensor()) / ablated.maxAbsAtRealPositions(h);
            assertTrue(rel < 1e-6, h + ": relative difference " + rel + " (float32 rounding of the orthogonalized weights)");
        }
        double base = model.run(List.of(P2, P1), List.of()).hook(last).maxAbsDiff(ablated.hook(last));
        assertTrue(base > 1e-3, "the ablation must change something");
    }

    /** Each row w of [rows, d]: w - (w.u) u. */
    private static void orthogonalizeRows(float[] m, int d, double[] u) {
        for (int row = 0; row < m.length / d; row++) {
            double dot = 0;
            for (int i = 0; i < d; i++) dot += m[row * d + i] * u[i];
            for (int i = 0; i < d; i++) m[row * d + i] = (float) (m[row * d + i] - dot * u[i]);
        }
    }

    /** W [d, n] -> (I - u u^T) W: each column loses its component along u. */
    private static void orthogonalizeColumns(float[] m, int d, double[] u) {
        int n = m.length / d;
        for (int c = 0; c < n; c++) {
            double dot = 0;
            for (int i = 0; i < d; i++) dot += m[i * n + c] * u[i];
            for (int i = 0; i < d; i++) m[i * n + c] = (float) (m[i * n + c] - dot * u[i]);
        }
    }

    private static int[] truncateAfter(int[] tokens, int stop) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] == stop) return Arrays.copyOf(tokens, i + 1);
        }
        return tokens;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
