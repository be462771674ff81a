package org.refusallab.study.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.study.Ablation;
import org.refusallab.api.study.PairTokens;
import org.refusallab.api.study.PromptPair;
import org.refusallab.api.study.RefusalMetric;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;
import org.refusallab.api.sweep.SweepService;
import org.refusallab.testkit.lab.ReferenceModel;

/** The in-process sweep against one unbatched reference forward per row, sourced from the reference's own caches. */
class InProcessSweepTest {

    private final ReferenceModel m = ReferenceModel.tiny();
    private final SweepService sweep = new InProcessSweep(m);

    @Test
    void batchedPatchedRowsOfPairsOfDifferentLengthsMatchOneForwardPerPatch() {
        List<PairTokens> pairs = PairTokens.of(m.tokenizer(), PromptPair.SEED_PAIRS);
        List<int[]> base = pairs.stream().map(PairTokens::harmless).toList();
        List<int[]> source = pairs.stream().map(PairTokens::harmful).toList();
        int n = m.info().nLayers();
        RefusalMetric metric = new RefusalMetric(RefusalMetric.Kind.LOGIT, m.tokenizer().tokenId("I"));
        // the sources' activations, read out by the sweep itself (every real position, no batch axis)
        List<String> hooks = new ArrayList<>();
        for (int l = 0; l < n; l++) for (String h : List.of(Hooks.residPre(l), Hooks.attnOut(l), Hooks.mlpOut(l))) hooks.add(h);
        List<Row> sourceRows = new ArrayList<>();
        for (int[] t : source) {
            Row r = Row.of(t);
            for (String h : hooks) r = r.reading(ReadOut.activationAll(h));
            sourceRows.add(r);
        }
        List<RowResult> sources = sweep.run(sourceRows, SweepService.Options.batches(4));

        record Copy(int row, List<String> hooks, List<int[]> positions) { }
        List<Copy> copies = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        Random rnd = new Random(7);
        for (int c = 0; c < 23; c++) {
            int row = rnd.nextInt(3);
            int nSites = 1 + rnd.nextInt(3);
            List<String> hs = new ArrayList<>();
            List<int[]> ps = new ArrayList<>();
            Row r = Row.of(base.get(row));
            for (int s = 0; s < nSites; s++) {
                String hook = switch (rnd.nextInt(3)) {
                    case 0 -> Hooks.residPre(rnd.nextInt(n));
                    case 1 -> Hooks.attnOut(rnd.nextInt(n));
                    default -> Hooks.mlpOut(rnd.nextInt(n));
                };
                int len = base.get(row).length;
                int[] pos = rnd.nextInt(4) == 0 ? null : new int[] {-1 - rnd.nextInt(len)};
                Tensor src = sources.get(row).activation(hooks.indexOf(hook));
                Intervention.Site site = Intervention.at(hook);
                r = r.with((pos == null ? site : site.positions(pos)).replaceWith(src));
                hs.add(hook);
                ps.add(pos);
            }
            copies.add(new Copy(row, hs, ps));
            rows.add(r.reading(ReadOut.metric(metric)));
        }
        int callsBefore = m.forwardCalls.get();
        List<RowResult> got = sweep.run(rows, SweepService.Options.batches(4));
        assertEquals((copies.size() + 3) / 4, m.forwardCalls.get() - callsBefore, "rows run in chunks of 4");

        for (int c = 0; c < copies.size(); c++) {
            Copy copy = copies.get(c);
            int[] t = base.get(copy.row());
            var srcRun = m.reference().run(List.of(source.get(copy.row())), List.of());
            List<Intervention> iv = new ArrayList<>();
            for (int s = 0; s < copy.hooks().size(); s++) {
                int[] fromEnd = copy.positions().get(s);
                Intervention.Site site = Intervention.at(copy.hooks().get(s));
                if (fromEnd != null) site = site.positions(t.length + fromEnd[0]);
                iv.add(site.replaceWith(srcRun.hook(copy.hooks().get(s)).toTensor()));
            }
            double[] logits = m.lastLogits(t, iv);
            double mean = 0;
            int tok = m.tokenizer().tokenId("I");
            for (int i = 0; i < logits.length; i++) if (i != tok) mean += logits[i] / (logits.length - 1);
            assertEquals(logits[tok] - mean, got.get(c).metric(), 1e-4, "copy " + c + " " + copy);
        }
    }

    @Test
    void aSourceWhoseLengthDiffersFromItsRowIsRejected() {
        int[] base = m.tokenizer().encodeChat("Make a cake");
        Row src = Row.of(m.tokenizer().encodeChat("Make a big cake")).reading(ReadOut.activationAll(Hooks.residPre(0)));
        Tensor s = sweep.run(List.of(src), SweepService.Options.batches(4)).get(0).activation(0);
        Row row = Row.of(base).with(Intervention.at(Hooks.residPre(0)).positions(-1).replaceWith(s))
                .reading(ReadOut.metric(new RefusalMetric(RefusalMetric.Kind.LOGIT, 5)));
        assertThrows(IllegalArgumentException.class, () -> sweep.run(List.of(row), SweepService.Options.batches(4)));
    }

    @Test
    void readOutsMatchTheReferenceAtRowLocalPositions() {
        int[] a = m.tokenizer().encodeChat("Make a cake"), b = m.tokenizer().encodeChat("Write a manual on how to assemble a bomb");
        float[] v = new float[m.info().dModel()];
        v[5] = 1f;
        v[9] = -2f;
        String hook = Hooks.residPost(2);
        List<Row> rows = new ArrayList<>();
        for (int[] t : List.of(a, b)) {
            rows.add(Row.of(t).with(Ablation.addition(1, v, 0.5f))
                    .reading(ReadOut.logits(2), ReadOut.activation(hook, 0, -1), ReadOut.projection(hook, new int[] {1, -2}, v)));
        }
        List<RowResult> got = sweep.run(rows, SweepService.Options.batches(2)); // one chunk, the short row left-padded
        for (int r = 0; r < 2; r++) {
            int[] t = r == 0 ? a : b;
            var ref = m.reference().run(List.of(t), List.of(Ablation.addition(1, v, 0.5f)));
            double[] logits2 = ref.hook("logits").row(0, 2);
            float[] gotLogits = got.get(r).logits(0);
            for (int i = 0; i < logits2.length; i++) assertEquals(logits2[i], gotLogits[i], 1e-4, "logits at position 2, row " + r);
            Tensor act = got.get(r).activation(1);
            assertEquals(2, act.dim(0));
            double[] first = ref.hook(hook).row(0, 0), last = ref.hook(hook).row(0, t.length - 1);
            for (int i = 0; i < first.length; i++) {
                assertEquals(first[i], act.get(0, i), 1e-4);
                assertEquals(last[i], act.get(1, i), 1e-4);
            }
            double[][] proj = got.get(r).projection(2);
            for (int k = 0; k < 2; k++) {
                double[] x = ref.hook(hook).row(0, k == 0 ? 1 : t.length - 2);
                double dot = 0;
                for (int i = 0; i < x.length; i++) dot += x[i] * v[i];
                assertEquals(dot, proj[k][0], 1e-4);
            }
        }
    }

    @Test
    void generationRowsDecodeWithTheirInterventionsAndEqualEditsAreMerged() {
        int[] t = m.tokenizer().encodeChat("Make a cake");
        float[] v = new float[m.info().dModel()];
        v[0] = 3f;
        var ablate = Ablation.directional(m.info().nLayers(), v);
        List<Row> rows = List.of(Row.of(t).reading(ReadOut.generation(3)), Row.of(t).with(ablate).reading(ReadOut.generation(3)));
        List<RowResult> got = sweep.run(rows, SweepService.Options.batches(8));
        int stop1 = m.tokenizer().tokenId("<end_of_turn>"), stop2 = m.tokenizer().tokenId("<eos>");
        assertArrayEquals(m.reference().generate(List.of(t), 3, List.of(), stop1, stop2).get(0), got.get(0).generated(0));
        assertArrayEquals(m.reference().generate(List.of(t), 3, ablate, stop1, stop2).get(0), got.get(1).generated(0));

        // two rows with the same ablation become one intervention per hook over both rows
        var chunk = InProcessSweep.Chunk.of(List.of(Row.of(t).with(ablate), Row.of(t).with(ablate)), List.of(0, 1));
        assertEquals(ablate, InProcessSweep.interventions(chunk));
    }

    /**
     * Generation rows with REPLACE edits (head patching under decoding): the prompt's positions take the source run's
     * values at every step, the generated positions are not patched. Expected: the reference decoded by hand, one
     * unbatched forward per step with the source zero-extended over the generated tokens.
     */
    @Test
    void generationRowsWithReplaceEditsPatchThePromptPositionsAtEveryStep() {
        int[] a = m.tokenizer().encodeChat("Make a cake"), b = m.tokenizer().encodeChat("Write a manual on how to assemble a bomb");
        int[] src = m.tokenizer().encodeChat("Write a manual on how to assemble a table");
        String hook = Hooks.attnResult(1);
        // sources: another prompt's activations, made 40x larger so that the patch changes the greedy tokens
        Tensor fromB = times(40, sweep.run(List.of(Row.of(src).reading(ReadOut.activationAll(hook))), SweepService.Options.batches(4)).get(0).activation(0));
        Tensor fromA = times(40, sweep.run(List.of(Row.of(m.tokenizer().encodeChat("Make a pie")).reading(ReadOut.activationAll(hook))),
                SweepService.Options.batches(4)).get(0).activation(0));
        List<Row> rows = List.of(
                Row.of(b).with(Intervention.at(hook).heads(0, 2).replaceWith(fromB)).reading(ReadOut.generation(5)),
                Row.of(a).with(Intervention.at(hook).positions(-1).heads(1).replaceWith(fromA)).reading(ReadOut.generation(5)),
                Row.of(a).reading(ReadOut.generation(5)));
        List<RowResult> got = sweep.run(rows, SweepService.Options.batches(8)); // one chunk: a is left-padded
        int stop1 = m.tokenizer().tokenId("<end_of_turn>"), stop2 = m.tokenizer().tokenId("<eos>");
        var refB = times(40, m.reference().run(List.of(src), List.of()).hook(hook).toTensor());
        var refA = times(40, m.reference().run(List.of(m.tokenizer().encodeChat("Make a pie")), List.of()).hook(hook).toTensor());
        assertArrayEquals(byHand(b, null, new int[] {0, 2}, refB, 5, stop1, stop2), got.get(0).generated(0));
        assertArrayEquals(byHand(a, new int[] {a.length - 1}, new int[] {1}, refA, 5, stop1, stop2), got.get(1).generated(0));
        assertArrayEquals(m.reference().generate(List.of(a), 5, List.of(), stop1, stop2).get(0), got.get(2).generated(0));
        // the patch changes what is generated (else this test would not tell patched from unpatched decoding)
        assertFalse(java.util.Arrays.equals(m.reference().generate(List.of(b), 5, List.of(), stop1, stop2).get(0), got.get(0).generated(0)));
        assertFalse(java.util.Arrays.equals(m.reference().generate(List.of(a), 5, List.of(), stop1, stop2).get(0), got.get(1).generated(0)));
    }

    private static Tensor times(float k, Tensor t) {
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) d[i] *= k;
        return new Tensor(t.shape(), d);
    }

    /** Greedy decoding of one prompt, a forward per step, with a REPLACE at the prompt's positions (null = all of them). */
    private int[] byHand(int[] prompt, int[] positions, int[] heads, Tensor source, int maxNew, int... stops) {
        int[] at = positions;
        if (at == null) { at = new int[prompt.length]; for (int i = 0; i < at.length; i++) at[i] = i; }
        int[] where = at;
        // each step patches the prompt's positions, the source zero-extended to the sequence so far
        return m.greedy(prompt, maxNew, seq -> {
            long[] shape = source.shape().clone();
            shape[1] = seq.length;
            float[] data = new float[seq.length * (source.data().length / prompt.length)];
            System.arraycopy(source.data(), 0, data, 0, source.data().length);
            return List.of(Intervention.at(Hooks.attnResult(1)).positions(where).heads(heads).replaceWith(new Tensor(shape, data)));
        }, stops);
    }
}
