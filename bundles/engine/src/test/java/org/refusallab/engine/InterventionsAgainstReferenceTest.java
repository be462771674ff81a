package org.refusallab.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;
import org.refusallab.testkit.DTensor;
import org.refusallab.testkit.GemmaReference;
import org.refusallab.testkit.ReferenceRun;

/**
 * Every intervention kind, at hooks of every layout, checked against the independent double-precision forward of
 * the testkit (its own safetensors reader, its own loops), on the tiny-gemma fixture with a left-padded batch.
 */
class InterventionsAgainstReferenceTest {

    static GemmaModel model;
    static GemmaReference reference;
    static final List<int[]> TOKENS = List.of(
            new int[] {2, 137, 41, 124, 111, 365, 251, 503, 135, 46},
            new int[] {2, 338, 353, 39, 11, 157, 50},
            new int[] {2, 12, 99, 401, 7, 88, 300, 301});
    static final Set<String> WATCH = Set.of("blocks.*.hook_resid_pre", "blocks.*.hook_attn_out", "blocks.*.hook_mlp_out",
            "blocks.1.attn.hook_pattern", "blocks.2.attn.hook_z", "blocks.3.hook_resid_post", "ln_final.hook_scale");

    @BeforeAll
    static void load() throws Exception {
        FixtureReference ref = new FixtureReference("tiny-gemma");
        model = Engine.load(ref.checkpoint(), "exact");
        reference = GemmaReference.load(ref.checkpoint());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static float[] randomDirection(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    /** A source run for REPLACE: the reference's own activations on other prompts of the same lengths. */
    static Tensor sourceFor(String hook) {
        List<int[]> other = new ArrayList<>();
        for (int[] t : TOKENS) {
            int[] o = t.clone();
            for (int i = 1; i < o.length; i++) o[i] = (o[i] * 7 + 3) % 500 + 5;
            other.add(o);
        }
        return reference.run(other, List.of()).hook(hook).toTensor();
    }

    static Stream<Arguments> cases() {
        float[] dir = randomDirection(1, 64);
        return Stream.of(
                Arguments.of("project out at every resid_pre, attn_out, mlp_out (directional ablation)", ablation(dir)),
                Arguments.of("clamp resid_pre of layer 2 at the last position", List.of(Intervention.at("blocks.2.hook_resid_pre").positions(9).clamp(dir, 3.5f))),
                Arguments.of("add to resid_pre of layer 1 for rows 0 and 2", List.of(Intervention.at("blocks.1.hook_resid_pre").rows(0, 2).add(dir, 2f))),
                Arguments.of("zero mlp_out of layer 0 at two positions", List.of(Intervention.at("blocks.0.hook_mlp_out").positions(5, 8).zero())),
                Arguments.of("replace resid_pre of layer 2 at one position from another run, crossing rows",
                        List.of(Intervention.at("blocks.2.hook_resid_pre").rows(0, 1).positions(7).replaceWith(sourceFor("blocks.2.hook_resid_pre")).fromRows(2, 0))),
                Arguments.of("replace one head of attn.hook_result (layer 1, head 2)",
                        List.of(Intervention.at("blocks.1.attn.hook_result").positions(9).heads(2).replaceWith(sourceFor("blocks.1.attn.hook_result")))),
                Arguments.of("replace heads 0 and 2 of attn.hook_result at a run of positions and one more (one block per run)",
                        List.of(Intervention.at("blocks.1.attn.hook_result").rows(0, 2).positions(3, 4, 5, 6, 9).heads(0, 2)
                                .replaceWith(sourceFor("blocks.1.attn.hook_result")).fromRows(1, 2),
                                Intervention.at("blocks.2.hook_resid_pre").positions(2, 3, 4).clamp(dir, 1.5f))),
                Arguments.of("zero heads 0 and 3 of attn.hook_z in layer 2", List.of(Intervention.at("blocks.2.attn.hook_z").heads(0, 3).zero())),
                Arguments.of("replace the pattern of head 1 at two query positions",
                        List.of(Intervention.at("blocks.3.attn.hook_pattern").rows(0).positions(4, 9).heads(1).replaceWith(sourceFor("blocks.3.attn.hook_pattern")))),
                Arguments.of("a direction per row (merged into one edit): project out on rows 0 and 1, add on row 2, then project row 0 again (kept in order)",
                        List.of(Intervention.at("blocks.1.hook_resid_pre").rows(0).projectOut(Intervention.unit(dir)),
                                Intervention.at("blocks.1.hook_resid_pre").rows(1).projectOut(Intervention.unit(randomDirection(3, 64))),
                                Intervention.at("blocks.1.hook_resid_pre").rows(2).add(randomDirection(4, 64), 1.5f),
                                Intervention.at("blocks.1.hook_resid_pre").rows(0).projectOut(Intervention.unit(randomDirection(5, 64))),
                                Intervention.at("blocks.2.hook_attn_out").rows(2).projectOut(Intervention.unit(dir)),
                                Intervention.at("blocks.2.hook_attn_out").rows(0, 1).projectOut(Intervention.unit(randomDirection(6, 64))))),
                Arguments.of("zero attn.hook_v and edit mlp.hook_post, composed",
                        List.of(Intervention.at("blocks.0.attn.hook_v").rows(1).zero(),
                                Intervention.at("blocks.2.mlp.hook_post").positions(9).add(randomDirection(2, 256), 0.5f),
                                Intervention.at("blocks.3.hook_resid_mid").clamp(dir, -1f))));
    }

    static List<Intervention> ablation(float[] dir) {
        List<Intervention> ivs = new ArrayList<>();
        for (int l = 0; l < 4; l++) {
            for (String h : List.of("hook_resid_pre", "hook_attn_out", "hook_mlp_out")) ivs.add(Intervention.at("blocks." + l + "." + h).projectOut(dir));
        }
        return ivs;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void interventionMatchesReference(String name, List<Intervention> ivs) {
        ForwardRequest request = new ForwardRequest(TOKENS, WATCH, ivs);
        ForwardResult got = model.run(request);
        ReferenceRun want = reference.run(request);
        ReferenceRun base = reference.run(TOKENS, List.of());
        Map<String, Double> errors = want.relativeErrors(got.cache());
        assertEquals(got.cache().size(), errors.size(), "every cached hook compared");
        errors.forEach((hook, rel) -> assertTrue(rel < 1e-4, name + ": " + hook + " relative error " + rel));
        DTensor wantLast = want.lastLogits();
        double scale = wantLast.maxAbs();
        double err = wantLast.maxAbsDiff(got.lastLogits());
        assertTrue(err < 1e-4 * scale, name + ": last logits error " + err);
        // The intervention must have changed something, or the comparison proves nothing.
        assertTrue(base.lastLogits().maxAbsDiff(got.lastLogits()) > 1e-3 * scale, name + ": intervention had no effect on the logits");
    }

    /**
     * A batch whose rows share their state up to some layer (copies of one prompt edited at different layers, as a
     * patching sweep sends) runs each layer once per state (SharedRows): every row's logits against the reference,
     * and against the same forward with sharing off.
     */
    @Test
    void rowsSharingStateUpToALayerMatchReference() {
        int[] t0 = TOKENS.get(0), t1 = TOKENS.get(1), t2 = TOKENS.get(2);
        List<int[]> tokens = List.of(t0, t0, t0, t1, t1, t2, t0, t0, t0, t0, t0, t1);
        float[] dir = randomDirection(7, 64);
        List<Intervention> ivs = new ArrayList<>();
        for (int l = 0; l < 4; l++) ivs.add(Intervention.at("blocks." + l + ".hook_resid_pre").projectOut(Intervention.unit(dir))); // every row
        ivs.add(Intervention.at("hook_embed").rows(10).add(randomDirection(8, 64), 0.5f));                                       // splits at the embedding
        ivs.add(Intervention.at("blocks.0.hook_mlp_out").rows(7).positions(5, 8).zero());
        ivs.add(Intervention.at("blocks.1.attn.hook_result").rows(6).positions(9).heads(2).replaceWith(sourceFor("blocks.1.attn.hook_result")).fromRows(1));
        ivs.add(Intervention.at("blocks.2.hook_resid_pre").rows(0, 1).positions(7).replaceWith(sourceFor("blocks.2.hook_resid_pre")).fromRows(2, 0)); // same prompt, other sources
        ivs.add(Intervention.at("blocks.3.hook_resid_pre").rows(8, 9).add(randomDirection(9, 64), 2f));                        // 8 and 9 stay one state
        ivs.add(Intervention.at("blocks.3.hook_mlp_out").rows(4).positions(6).zero());
        ForwardRequest request = new ForwardRequest(tokens, Set.of(), ivs);
        var states = org.refusallab.engine.graph.SharedRows.of(GemmaModel.Batch.of(tokens, 0, 512, 0).ids(), ivs, 4);
        assertEquals(List.of(4, 5, 6, 8, 10, 10), java.util.stream.IntStream.range(0, 6).mapToObj(s -> states.active(s).length).toList(),
                "running rows per segment (embedding, 4 blocks, head)");
        ForwardResult shared = model.run(request);
        model.shareRows(false);
        ForwardResult alone;
        try {
            alone = model.run(request);
        } finally {
            model.shareRows(true);
        }
        DTensor want = reference.run(request).lastLogits();
        double scale = want.maxAbs();
        assertTrue(want.maxAbsDiff(shared.lastLogits()) < 1e-4 * scale, "shared rows against the reference: " + want.maxAbsDiff(shared.lastLogits()));
        assertTrue(want.maxAbsDiff(alone.lastLogits()) < 1e-4 * scale, "unshared against the reference");
        // the edits took effect where they were meant to: rows 0 and 1 (same prompt, other sources) differ, 8 and 9 agree
        Tensor got = shared.lastLogits();
        double d01 = 0, d89 = 0, d29 = 0;
        for (int v = 0; v < got.dim(1); v++) {
            d01 = Math.max(d01, Math.abs(got.get(0, v) - got.get(1, v)));
            d89 = Math.max(d89, Math.abs(got.get(8, v) - got.get(9, v)));
            d29 = Math.max(d29, Math.abs(got.get(2, v) - got.get(9, v)));
        }
        assertTrue(d01 > 1e-3 * scale && d29 > 1e-3 * scale, "patched rows differ from their prompt's other copies");
        assertEquals(0.0, d89, 1e-6 * scale);
    }

    @Test
    void patchingOneHeadResultChangesAttnOutByThatHeadsDifference() {
        Tensor src = sourceFor("blocks.1.attn.hook_result");
        ForwardResult base = model.run(new ForwardRequest(TOKENS, Set.of("blocks.1.attn.hook_result", "blocks.1.hook_attn_out"), List.of()));
        ForwardResult patched = model.run(new ForwardRequest(TOKENS, Set.of("blocks.1.hook_attn_out"),
                List.of(Intervention.at("blocks.1.attn.hook_result").heads(3).replaceWith(src))));
        Tensor before = base.hook("blocks.1.hook_attn_out"), after = patched.hook("blocks.1.hook_attn_out"), res = base.hook("blocks.1.attn.hook_result");
        int r = 0, p = 9;
        for (int i = 0; i < 64; i++) {
            double expected = before.get(r, p, i) - res.get(r, p, 3, i) + src.get(r, p, 3, i);
            assertEquals(expected, after.get(r, p, i), 1e-4, "dim " + i);
        }
    }

    @Test
    void generationWithAblationMatchesReference() {
        List<Intervention> ivs = ablation(randomDirection(5, 64));
        List<int[]> prompts = List.of(new int[] {2, 137, 41, 124}, new int[] {2, 338, 353, 39, 11, 157});
        List<int[]> got = model.generate(new GenerationRequest(prompts, 6, ivs), Set.of());
        List<int[]> want = reference.generate(prompts, 6, ivs);
        for (int r = 0; r < prompts.size(); r++) assertEquals(List.of(box(want.get(r))), List.of(box(got.get(r))), "row " + r);
    }

    static Integer[] box(int[] a) {
        return java.util.Arrays.stream(a).boxed().toArray(Integer[]::new);
    }

    @Test
    void nothingLingersBetweenCalls() {
        ForwardResult before = model.run(ForwardRequest.of(TOKENS));
        model.run(new ForwardRequest(TOKENS, Set.of(), ablation(randomDirection(1, 64))));
        ForwardResult after = model.run(ForwardRequest.of(TOKENS));
        assertEquals(before.lastLogits(), after.lastLogits());
    }

    @Test
    void badInputsFailClearly() {
        var e = assertThrows(IllegalArgumentException.class, () -> model.run(ForwardRequest.of(List.of(new int[] {2, 512}))));
        assertTrue(e.getMessage().contains("512"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.run(new ForwardRequest(TOKENS, Set.of("blocks.9.hook_resid_pre"), List.of())));
        assertTrue(e.getMessage().contains("blocks.9.hook_resid_pre"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.run(new ForwardRequest(TOKENS, Set.of(),
                List.of(Intervention.at("blocks.0.hook_resid_pre").projectOut(new float[] {1, 2, 3})))));
        assertTrue(e.getMessage().contains("direction has 3 values"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.run(new ForwardRequest(TOKENS, Set.of(),
                List.of(Intervention.at("blocks.0.hook_resid_pre").positions(10).zero()))));
        assertTrue(e.getMessage().contains("position 10"), e.getMessage());
    }
}
