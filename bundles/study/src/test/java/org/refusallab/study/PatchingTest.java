package org.refusallab.study;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.Intervention;
import org.refusallab.study.testing.ReferenceModel;

/** Batched patching against one unbatched reference forward per copy, sourced from the reference's own caches. */
class PatchingTest {

    @Test
    void batchedCopiesOfPairsOfDifferentLengthsMatchOneForwardPerPatch() {
        ReferenceModel m = ReferenceModel.tiny();
        List<PairTokens> pairs = PairTokens.of(m.tokenizer(), PromptPair.SEED_PAIRS);
        List<int[]> base = pairs.stream().map(PairTokens::harmless).toList();
        List<int[]> source = pairs.stream().map(PairTokens::harmful).toList();
        int n = m.info().nLayers();
        RefusalMetric metric = new RefusalMetric(RefusalMetric.Kind.LOGIT, m.tokenizer().tokenId("I"));
        List<Patching.Copy> copies = new ArrayList<>();
        Random rnd = new Random(7);
        for (int c = 0; c < 23; c++) {
            int row = rnd.nextInt(3);
            List<Patching.Site> sites = new ArrayList<>();
            int nSites = 1 + rnd.nextInt(3);
            for (int s = 0; s < nSites; s++) {
                String hook = switch (rnd.nextInt(3)) {
                    case 0 -> Interventions.residPre(rnd.nextInt(n));
                    case 1 -> Interventions.attnOut(rnd.nextInt(n));
                    default -> Interventions.mlpOut(rnd.nextInt(n));
                };
                int len = base.get(row).length;
                int[] pos = rnd.nextInt(4) == 0 ? null : new int[] {-1 - rnd.nextInt(len)};
                sites.add(new Patching.Site(hook, pos));
            }
            copies.add(new Patching.Copy(row, row, sites));
        }
        var batches = new Batches(m, 4, null);
        var sources = batches.cache(source, java.util.Set.of("blocks.*.hook_resid_pre", "blocks.*.hook_attn_out", "blocks.*.hook_mlp_out"), List.of());
        int callsBefore = m.forwardCalls.get();
        double[] got = Patching.run(batches, base, sources, copies, metric);
        assertEquals((copies.size() + 3) / 4, m.forwardCalls.get() - callsBefore, "copies run in chunks of 4");

        for (int c = 0; c < copies.size(); c++) {
            Patching.Copy copy = copies.get(c);
            int[] t = base.get(copy.baseRow());
            var srcRun = m.reference().run(List.of(source.get(copy.sourceRow())), List.of());
            List<Intervention> iv = new ArrayList<>();
            for (Patching.Site s : copy.sites()) {
                int[] pos = s.fromEnd() == null ? null : new int[] {t.length + s.fromEnd()[0]};
                iv.add(Intervention.replace(s.hook(), srcRun.hook(s.hook()).toTensor(), null, null, pos, null));
            }
            double[] logits = m.lastLogits(t, iv);
            double mean = 0;
            int tok = m.tokenizer().tokenId("I");
            for (int i = 0; i < logits.length; i++) if (i != tok) mean += logits[i] / (logits.length - 1);
            assertEquals(logits[tok] - mean, got[c], 1e-4, "copy " + c + " " + copy);
        }
    }

    @Test
    void copiesWhoseBaseAndSourceLengthsDifferAreRejected() {
        ReferenceModel m = ReferenceModel.tiny();
        List<int[]> base = List.of(m.tokenizer().encodeChat("Make a cake"));
        var batches = new Batches(m, 4, null);
        var sources = batches.cache(List.of(m.tokenizer().encodeChat("Make a big cake")), java.util.Set.of("blocks.0.hook_resid_pre"), List.of());
        var copy = new Patching.Copy(0, 0, List.of(new Patching.Site("blocks.0.hook_resid_pre", new int[] {-1})));
        assertThrows(IllegalArgumentException.class, () -> Patching.run(batches, base, sources, List.of(copy),
                new RefusalMetric(RefusalMetric.Kind.LOGIT, 5)));
    }
}
