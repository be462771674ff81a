package org.refusallab.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.refusallab.engine.InterventionsAgainstReferenceTest.randomDirection;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;
import org.refusallab.testkit.DTensor;
import org.refusallab.testkit.GemmaReference;
import org.refusallab.testkit.GreedyComparison;
import org.refusallab.testkit.ReferenceRun;

/**
 * Every intervention kind on Gemma 2 (tiny-gemma2: local layers 0 and 2 with a window of 4, soft-caps), at hooks of
 * every layout including the post-norm scales, checked against the testkit's double-precision Gemma 2 on a
 * left-padded batch whose rows are longer than the window.
 */
class Gemma2InterventionsAgainstReferenceTest {

    static GemmaModel model;
    static GemmaReference reference;
    static final List<int[]> TOKENS = List.of(
            new int[] {2, 137, 41, 124, 111, 365, 251, 303, 135, 46},
            new int[] {2, 338, 353, 39, 11, 157, 50},
            new int[] {2, 12, 99, 301, 7, 88, 300, 301});
    static final Set<String> WATCH = Set.of("blocks.*.hook_resid_pre", "blocks.*.hook_attn_out", "blocks.*.hook_mlp_out",
            "blocks.*.ln1_post.hook_scale", "blocks.2.attn.hook_pattern", "blocks.0.attn.hook_attn_scores", "blocks.2.attn.hook_z",
            "blocks.3.hook_resid_post", "ln_final.hook_scale", "logits");

    @BeforeAll
    static void load() throws Exception {
        FixtureReference ref = new FixtureReference("tiny-gemma2");
        model = Engine.load(ref.checkpoint(), null);
        reference = GemmaReference.load(ref.checkpoint());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static Tensor sourceFor(String hook) {
        List<int[]> other = new ArrayList<>();
        for (int[] t : TOKENS) {
            int[] o = t.clone();
            for (int i = 1; i < o.length; i++) o[i] = (o[i] * 7 + 3) % 390 + 5;
            other.add(o);
        }
        return reference.run(other, List.of()).hook(hook).toTensor();
    }

    static List<Intervention> ablation(float[] dir) {
        List<Intervention> ivs = new ArrayList<>();
        for (int l = 0; l < 4; l++) {
            for (String h : List.of("hook_resid_pre", "hook_attn_out", "hook_mlp_out")) ivs.add(Intervention.at("blocks." + l + "." + h).projectOut(dir));
        }
        return ivs;
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
                Arguments.of("replace one head of attn.hook_result (local layer 2, head 2)",
                        List.of(Intervention.at("blocks.2.attn.hook_result").positions(9).heads(2).replaceWith(sourceFor("blocks.2.attn.hook_result")))),
                Arguments.of("zero heads 0 and 3 of attn.hook_z in layer 1", List.of(Intervention.at("blocks.1.attn.hook_z").heads(0, 3).zero())),
                Arguments.of("replace the pattern of head 1 at two query positions of a local layer",
                        List.of(Intervention.at("blocks.0.attn.hook_pattern").rows(0).positions(4, 9).heads(1).replaceWith(sourceFor("blocks.0.attn.hook_pattern")))),
                Arguments.of("add to the scores of a local layer (after soft-cap and mask)",
                        List.of(Intervention.at("blocks.2.attn.hook_attn_scores").positions(9).add(randomDirection(3, 10), 1.5f))),
                Arguments.of("scale the post-attention norm: edit ln1_post.hook_scale", List.of(Intervention.at("blocks.1.ln1_post.hook_scale").add(new float[] {1f}, 0.7f))),
                Arguments.of("zero attn.hook_v, edit mlp.hook_post and ln2_post.hook_scale, clamp resid_mid, composed",
                        List.of(Intervention.at("blocks.0.attn.hook_v").rows(1).zero(),
                                Intervention.at("blocks.2.mlp.hook_post").positions(9).add(randomDirection(2, 128), 0.5f),
                                Intervention.at("blocks.3.ln2_post.hook_scale").positions(8, 9).add(new float[] {1f}, 0.3f),
                                Intervention.at("blocks.3.hook_resid_mid").clamp(dir, -1f))));
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
        assertTrue(errors.size() >= 4 * 4 + 5, "hooks compared: " + errors.keySet());
        errors.forEach((hook, rel) -> assertTrue(rel < 1e-4, name + ": " + hook + " relative error " + rel));
        DTensor wantLast = want.lastLogits();
        double scale = wantLast.maxAbs();
        assertTrue(wantLast.maxAbsDiff(got.lastLogits()) < 1e-4 * scale, name + ": last logits");
        System.out.printf("tiny-gemma2 intervention '%s': worst hook error %.2e of its max, last logits %.2e%n", name,
                errors.values().stream().mapToDouble(Double::doubleValue).max().orElse(0), wantLast.maxAbsDiff(got.lastLogits()) / scale);
        assertTrue(base.lastLogits().maxAbsDiff(got.lastLogits()) > 1e-3 * scale, name + ": intervention had no effect on the logits");
    }

    /** On Gemma 2 the heads' results sum to the attention output before ln1_post: a patched head moves hook_attn_out through that norm. */
    /** Rows sharing their state up to a layer run it once (SharedRows), on Gemma 2's local and global layers too. */
    @Test
    void rowsSharingStateUpToALayerMatchReference() {
        int[] t0 = TOKENS.get(0), t1 = TOKENS.get(1);
        List<int[]> tokens = List.of(t0, t0, t0, t1, t0, t1, t0, t0, t0, t0);
        List<Intervention> ivs = List.of(
                Intervention.at("blocks.0.hook_resid_pre").projectOut(Intervention.unit(randomDirection(3, 64))),
                Intervention.at("blocks.1.attn.hook_result").rows(1).positions(9).heads(0).replaceWith(sourceFor("blocks.1.attn.hook_result")).fromRows(2),
                Intervention.at("blocks.2.hook_resid_pre").rows(2, 4, 6).positions(8).replaceWith(sourceFor("blocks.2.hook_resid_pre")).fromRows(0, 1, 2),
                Intervention.at("blocks.3.hook_mlp_out").rows(3).zero());
        ForwardRequest request = new ForwardRequest(tokens, Set.of(), ivs);
        assertTrue(org.refusallab.engine.graph.SharedRows.of(GemmaModel.Batch.of(tokens, 0, 400, 0).ids(), ivs, 4).active(3).length < tokens.size());
        DTensor want = reference.run(request).lastLogits();
        double err = want.maxAbsDiff(model.run(request).lastLogits());
        assertTrue(err < 1e-4 * want.maxAbs(), "shared rows against the reference: " + err);
    }

    @Test
    void patchingOneHeadResultChangesAttnOutThroughThePostAttentionNorm() {
        Tensor src = sourceFor("blocks.1.attn.hook_result");
        ForwardResult base = model.run(new ForwardRequest(TOKENS, Set.of("blocks.1.attn.hook_result"), List.of()));
        ForwardResult patched = model.run(new ForwardRequest(TOKENS, Set.of("blocks.1.hook_attn_out", "blocks.1.ln1_post.hook_scale"),
                List.of(Intervention.at("blocks.1.attn.hook_result").heads(3).replaceWith(src))));
        Tensor res = base.hook("blocks.1.attn.hook_result"), after = patched.hook("blocks.1.hook_attn_out");
        float[] w = model.weights().get("model.layers.1.post_attention_layernorm.weight").toFloatVector();
        int r = 0, p = 9;
        double[] raw = new double[64];
        double sumSq = 0;
        for (int i = 0; i < 64; i++) {
            for (int h = 0; h < 4; h++) raw[i] += h == 3 ? src.get(r, p, 3, i) : res.get(r, p, h, i);
            sumSq += raw[i] * raw[i];
        }
        double scale = Math.sqrt(sumSq / 64 + 1e-6);
        assertEquals(scale, patched.hook("blocks.1.ln1_post.hook_scale").get(r, p, 0), 1e-5 * scale);
        for (int i = 0; i < 64; i++) assertEquals(raw[i] / scale * (1 + w[i]), after.get(r, p, i), 1e-4, "dim " + i);
    }

    @Test
    void generationWithAblationMatchesReferenceWhereTheMarginAllows() {
        List<Intervention> ivs = ablation(randomDirection(5, 64));
        List<int[]> prompts = List.of(new int[] {2, 137, 41, 124}, new int[] {2, 338, 353, 39, 11, 157});
        List<int[]> want = reference.generate(prompts, 6, ivs);
        GreedyComparison.Result r = GreedyComparison.compare(Gemma2FixtureForwardTest.lastLogits(model, ivs), prompts, want, 1e-4);
        System.out.println("tiny-gemma2 greedy with ablation (engine vs reference): " + r.compared() + " compared, near-ties " + r.nearTies());
        assertEquals(List.of(), r.mismatches());
        assertTrue(r.compared() >= 6, "steps compared: " + r.compared());
    }
}
