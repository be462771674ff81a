package org.refusallab.analysis.headpatching;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Finding.Verdict;
import org.refusallab.api.study.HeadClasses;
import org.refusallab.api.study.PairTokens;
import org.refusallab.api.study.PromptPair;
import org.refusallab.api.study.Stats;
import org.refusallab.api.study.Study;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Lab;

@ExtendWith(RefusalLab.class)
class HeadPatchingTest {

    private static Map<String, String> params(String threshold, String positions) {
        Map<String, String> p = new HashMap<>(Lab.studyParameters(1, -1, 4));
        p.put("headClasses.threshold", threshold);
        p.put("positions", positions);
        return p;
    }

    /** Reference metric of a base prompt with a set's heads' results replaced by the source prompt's (unbatched, double). */
    private static double patchedMetric(Lab lab, String base, String source, List<HeadClasses.Head> heads, boolean lastOnly) {
        Independent ind = lab.independent();
        var src = ind.run(source, List.of());
        int last = ind.chat(base).length - 1;
        List<Intervention> iv = new ArrayList<>();
        for (var e : HeadClasses.byLayer(heads).entrySet()) {
            Intervention.Site site = Intervention.at(Hooks.attnResult(e.getKey())).heads(e.getValue());
            iv.add((lastOnly ? site.positions(last) : site).replaceWith(src.hook(Hooks.attnResult(e.getKey())).toTensor()));
        }
        return ind.logitMetric(base, iv, "I");
    }

    /**
     * Every class's fraction (of the pair-averaged metrics) and every per-pair fraction against unbatched double
     * reference forwards with the patch written out, both position readings, at two thresholds (so that the direct,
     * diagonal and other sets are non-empty in one of them).
     */
    @Test
    void everyFractionMatchesTheDoubleReference(Lab lab) throws Exception {
        for (String threshold : List.of("0.2", "0.05")) {
            for (String positions : List.of("all", "last")) {
                Map<String, String> p = params(threshold, positions);
                AnalysisResult r = lab.run(new HeadPatching(lab.studies()), p);
                HeadClasses hc = lab.studies().open(lab.context("probe", p)).headClasses();
                List<HeadPatching.HeadSet> sets = HeadPatching.headSets(hc);
                List<String[]> pairs = Independent.SEED;  // tiny: no held-out pairs configured
                var bar = Independent.figure(r, "fraction-recovered");
                double[][] cells = Independent.figure(r, "fraction-per-pair").series().get(0).values();
                int shown = 0;
                for (int s = 0; s < sets.size(); s++) {
                    if (sets.get(s).isEmpty()) continue;
                    for (int d = 0; d < 2; d++) {
                        double[] base = new double[3], source = new double[3], patched = new double[3];
                        for (int k = 0; k < 3; k++) {
                            String harmful = pairs.get(k)[0], harmless = pairs.get(k)[1];
                            String b = d == 0 ? harmful : harmless, src = d == 0 ? harmless : harmful;
                            base[k] = lab.independent().logitMetric(b, List.of(), "I");
                            source[k] = lab.independent().logitMetric(src, List.of(), "I");
                            patched[k] = patchedMetric(lab, b, src, sets.get(s).heads(), positions.equals("last"));
                            double f = Stats.recovered(patched[k], base[k], source[k]);
                            assertEquals(f, cells[d * countNonEmpty(sets) + shown][k], 1e-3 * Math.max(1, Math.abs(f)), threshold + " " + positions + " set " + s + " dir " + d + " pair " + k);
                        }
                        double expected = Stats.recovered(Stats.mean(patched), Stats.mean(base), Stats.mean(source));
                        double got = Independent.series(bar, d == 0 ? "noising" : "denoising")[shown];
                        assertEquals(expected, got, 1e-3 * Math.max(1, Math.abs(expected)), threshold + " " + positions + " " + sets.get(s).name() + " dir " + d);
                        if (s == 0) {
                            // the direct heads' finding (noising: claim 1, denoising: claim 3) reads the same fraction and its per-pair values
                            var measure = r.findings().get(d == 0 ? 0 : 2).measures().get(0);
                            assertEquals(expected, measure.value(), 1e-3 * Math.max(1, Math.abs(expected)));
                            assertEquals(3, measure.perPair().size());
                            for (int k = 0; k < 3; k++) {
                                double f = Stats.recovered(patched[k], base[k], source[k]);
                                assertEquals(f, measure.perPair().get(k), 1e-3 * Math.max(1, Math.abs(f)));
                            }
                            assertNull(measure.interval(), "no held-out pairs on the fixture: no interval");
                        }
                    }
                    shown++;
                }
                assertEquals(shown, bar.xLabels().size());
                assertEquals(5, r.findings().size());
                for (var f : r.findings()) {
                    assertNotNull(f.rule(), f.claim());
                    assertEquals(f.verdict(), f.recomputed(false), "the published measures give the verdict: " + f.claim());
                }
            }
        }
    }

    private static int countNonEmpty(List<HeadPatching.HeadSet> sets) {
        return (int) sets.stream().filter(s -> !s.isEmpty()).count();
    }

    /**
     * Generations: the baseline completions are the reference's greedy decoding; the patched ones are decoded by hand
     * with one unbatched reference forward per step, the direct heads' results replaced at the prompt's positions.
     */
    @Test
    void generationsMatchHandDecodedReference(Lab lab) throws Exception {
        Map<String, String> p = params("0.05", "all");
        AnalysisResult r = lab.run(new HeadPatching(lab.studies()), p);
        HeadClasses hc = lab.studies().open(lab.context("probe", p)).headClasses();
        List<HeadClasses.Head> direct = hc.heads(HeadClasses.Kind.DIRECT);
        assertFalse(direct.isEmpty(), "threshold 0.05 makes some heads direct on the fixture");
        var table = Independent.table(r, "patched-generations");
        assertEquals(6, table.rows().size());
        var tok = lab.model().tokenizer();
        int stop1 = tok.tokenId("<end_of_turn>"), stop2 = tok.tokenId("<eos>");
        for (int i = 0; i < 6; i++) {
            boolean noising = i < 3;
            String[] pair = Independent.SEED.get(i % 3);
            String base = noising ? pair[0] : pair[1], source = noising ? pair[1] : pair[0];
            List<String> row = table.rows().get(i);
            assertEquals(base, row.get(1));
            int[] baseline = lab.model().reference().generate(List.of(tok.encodeChat(base)), 4, List.of(), stop1, stop2).get(0);
            assertEquals(tok.decode(baseline, true), row.get(2));
            assertEquals(Boolean.toString(lab.studies().open(lab.context("probe", p)).refusalScore().isRefusal(row.get(2))), row.get(3));
            assertEquals(tok.decode(byHand(lab, base, source, direct, 4, stop1, stop2), true), row.get(4), "row " + i);
        }
    }

    private static int[] byHand(Lab lab, String base, String source, List<HeadClasses.Head> heads, int maxNew, int... stops) {
        var src = lab.independent().run(source, List.of());
        int[] prompt = lab.independent().chat(base);
        int[] at = new int[prompt.length];
        for (int i = 0; i < at.length; i++) at[i] = i;
        // each step patches the prompt's positions from the source run (its source zero-extended to the sequence)
        return lab.model().greedy(prompt, maxNew, seq -> {
            List<Intervention> iv = new ArrayList<>();
            for (var e : HeadClasses.byLayer(heads).entrySet()) {
                Tensor t = src.hook(Hooks.attnResult(e.getKey())).toTensor();
                long[] shape = t.shape().clone();
                shape[1] = seq.length;
                float[] data = new float[(int) (shape[0] * shape[1] * shape[2] * shape[3])];
                System.arraycopy(t.data(), 0, data, 0, t.data().length);
                iv.add(Intervention.at(Hooks.attnResult(e.getKey())).positions(at).heads(e.getValue()).replaceWith(new Tensor(shape, data)));
            }
            return iv;
        }, stops);
    }

    /**
     * A setting with a known answer: with every MLP output and every attention output but layer 1's zeroed, the last
     * position's final residual is its embedding (the same chat suffix in both prompts) plus layer 1's heads. Patching
     * all of layer 1's heads (classified L1-L2, threshold 0: all direct) at every position from the source run makes
     * the patched run's last logits the source run's: fraction recovered 1 for noising and denoising, every pair. A
     * set of none of them recovers nothing.
     */
    @Test
    void patchingEveryWritingHeadRecoversEverything(Lab lab) {
        Map<String, String> p = params("0", "all");
        p.put("headClasses.layers", "1-2");
        Study study = lab.studies().open(lab.context(HeadPatching.ID, p));
        HeadClasses hc = study.headClasses();
        List<HeadPatching.HeadSet> sets = HeadPatching.headSets(hc);
        assertEquals(4, sets.get(0).heads().size(), "all four heads of L1 are direct at threshold 0");
        assertTrue(sets.get(1).isEmpty() && sets.get(3).isEmpty());
        int n = lab.model().info().nLayers();
        List<Intervention> silent = new ArrayList<>();
        for (int l = 0; l < n; l++) {
            silent.add(Intervention.at(Hooks.mlpOut(l)).zero());
            if (l != 1) silent.add(Intervention.at(Hooks.attnOut(l)).zero());
        }
        List<PairTokens> pairs = PairTokens.of(study.tokenizer(), PromptPair.SEED_PAIRS);
        var src = HeadPatching.sources(study, pairs, HeadPatching.layersOf(sets), silent);
        var m = HeadPatching.measure(study, pairs, sets, HeadPatching.Positions.ALL, src, silent);
        for (int d = 0; d < 2; d++) {
            assertEquals(1.0, m.fraction(d, 0), 1e-4);
            for (int k = 0; k < 3; k++) {
                assertTrue(Math.abs(m.base()[d][k] - m.source()[d][k]) > 1e-3, "the pair's runs differ");
                assertEquals(1.0, m.pairFraction(d, 0, k), 1e-3);
            }
            assertEquals(m.fraction(d, 0), m.fraction(d, 2), 1e-12, "direct + diagonal = direct without diagonal heads");
            assertTrue(Double.isNaN(m.fraction(d, 1)), "an empty set is not patched");
        }
        // and the first patched greedy token is the source run's
        var gens = HeadPatching.generate(study, pairs, sets.get(0), HeadPatching.Positions.ALL, 1, src, silent);
        for (int k = 0; k < 3; k++) {
            assertEquals(gens.get(3 + k).baseline(), gens.get(k).patched(), "noised harmful prompt's token = its harmless twin's, pair " + k);
            assertEquals(gens.get(k).baseline(), gens.get(3 + k).patched(), "denoised harmless prompt's token = its harmful twin's, pair " + k);
        }
    }

    @Test
    void noDirectHeadsMakeEveryFindingNotApplicable(Lab lab) throws Exception {
        AnalysisResult r = lab.run(new HeadPatching(lab.studies()), params("1.5", "all"));
        for (var f : r.findings()) {
            assertEquals(Verdict.NOT_APPLICABLE, f.verdict(), f.claim());
            assertTrue(f.note().contains("no direct heads"), f.note());
            assertTrue(f.rule() != null && f.measures().isEmpty(), "a written rule without measures: " + f.claim());
        }
        assertTrue(r.tables().stream().noneMatch(t -> t.id().equals("patched-generations")));
        // at threshold 1.5 every head is "other": that set alone is patched and plotted
        assertEquals(List.of("other middle heads (8)"), Independent.figure(r, "fraction-recovered").xLabels());
        assertTrue(r.summary().contains("Not patched"), r.summary());
    }

    @Test
    void badParametersAreNamed(Lab lab) {
        Map<String, String> p = params("0.2", "everywhere");
        var e = assertThrows(IllegalArgumentException.class, () -> lab.run(new HeadPatching(lab.studies()), p));
        assertTrue(e.getMessage().contains("head-patching") && e.getMessage().contains("positions") && e.getMessage().contains("'everywhere'"), e.getMessage());
    }

    @Test
    void verdictRulesGiveEveryOutcome() {
        assertEquals(Verdict.AGREES, HeadPatching.verdict(HeadPatching.NOISING, 0.9));
        assertEquals(Verdict.AGREES, HeadPatching.verdict(HeadPatching.NOISING, 0.75));
        assertEquals(Verdict.PARTLY, HeadPatching.verdict(HeadPatching.NOISING, 0.6));
        assertEquals(Verdict.DISAGREES, HeadPatching.verdict(HeadPatching.NOISING, 0.2));
        assertEquals(Verdict.AGREES, HeadPatching.verdict(HeadPatching.BYPASS, 3 / 3.0));
        assertEquals(Verdict.PARTLY, HeadPatching.verdict(HeadPatching.BYPASS, 2 / 4.0));
        assertEquals(Verdict.DISAGREES, HeadPatching.verdict(HeadPatching.BYPASS, 1 / 3.0));
        assertEquals(Verdict.NOT_APPLICABLE, HeadPatching.verdict(HeadPatching.BYPASS, Double.NaN), "the baseline refuses none: 0/0");
        assertEquals(Verdict.AGREES, HeadPatching.verdict(HeadPatching.DENOISING, 0.7));
        assertEquals(Verdict.PARTLY, HeadPatching.verdict(HeadPatching.DENOISING, 0.3));
        assertEquals(Verdict.DISAGREES, HeadPatching.verdict(HeadPatching.DENOISING, 0.1));
        assertEquals(Verdict.AGREES, HeadPatching.verdict(HeadPatching.INDUCED, HeadPatching.induced(0, 1 / 3.0)));
        assertEquals(Verdict.AGREES, HeadPatching.verdict(HeadPatching.INDUCED, HeadPatching.induced(0, 2 / 3.0)), "2 of 3 is still not most");
        assertEquals(Verdict.AGREES, HeadPatching.verdict(HeadPatching.INDUCED, HeadPatching.induced(0, 1 / 336.0)), "one new refusal of 336 is some");
        assertEquals(Verdict.PARTLY, HeadPatching.verdict(HeadPatching.INDUCED, HeadPatching.induced(0, 1)));
        assertEquals(Verdict.DISAGREES, HeadPatching.verdict(HeadPatching.INDUCED, HeadPatching.induced(0.2, 0.2)));
        assertEquals(Verdict.DISAGREES, HeadPatching.verdict(HeadPatching.INDUCED, HeadPatching.induced(0.5, 0.2)));
        assertEquals(Verdict.AGREES, HeadPatching.verdict(HeadPatching.ANTAGONISM, HeadPatching.antagonism(0.7, 0.1)));
        assertEquals(Verdict.PARTLY, HeadPatching.verdict(HeadPatching.ANTAGONISM, HeadPatching.antagonism(0.7, 0.4)));
        assertEquals(Verdict.DISAGREES, HeadPatching.verdict(HeadPatching.ANTAGONISM, HeadPatching.antagonism(0.7, 0.8)));
        assertEquals(Verdict.NOT_APPLICABLE, HeadPatching.ANTAGONISM.judge(List.of(), false), "no diagonal heads: no measures");
    }

    /**
     * A planted answer with held-out pairs (the fixture has none): 3 seed and 3 held-out pairs with known metrics and
     * refusals; each finding's value is over the seed pairs, its per-pair values are the seed pairs', and its interval
     * is the seeded bootstrap over the held-out pairs (here constant, so the interval is a point).
     */
    @Test
    void findingsMeasureTheSeedPairsAndBootstrapTheHeldOutPairs() {
        var direct = new HeadPatching.HeadSet("direct", List.of(new HeadClasses.Head(1, 0)));
        var diagonal = new HeadPatching.HeadSet("diagonal", List.of(new HeadClasses.Head(1, 1)));
        var both = new HeadPatching.HeadSet("direct + diagonal", List.of(new HeadClasses.Head(1, 0), new HeadClasses.Head(1, 1)));
        var other = new HeadPatching.HeadSet("other middle heads", List.of());
        // noising: base 10, source 0; denoising: base 0, source 10. Seed pairs recover 0.8, 0.9, 1.0 (noising) and 0.6 (denoising);
        // held-out pairs recover 0.2 (noising) and 0.1 (denoising)
        double[] hi = {10, 10, 10, 10, 10, 10}, lo = {0, 0, 0, 0, 0, 0};
        double[][][] patched = new double[2][4][];
        patched[0][0] = new double[] {2, 1, 0, 8, 8, 8};
        patched[1][0] = new double[] {6, 6, 6, 1, 1, 1};
        patched[0][1] = patched[0][0];
        patched[1][1] = patched[1][0];
        patched[0][2] = patched[0][0];
        patched[1][2] = new double[] {1, 1, 1, 1, 1, 1};  // direct + diagonal: 0.1 recovered
        patched[0][3] = new double[6];
        patched[1][3] = new double[6];
        var m = new HeadPatching.Measured(new double[][] {hi, lo}, new double[][] {lo, hi}, patched, List.of());
        List<HeadPatching.Generated> gens = new java.util.ArrayList<>();
        // noising: seed pairs all refused at baseline, 2 of them bypassed; held-out: refused, not bypassed
        boolean[] noisedRefused = {false, false, true, true, true, true};
        for (int p = 0; p < 6; p++) gens.add(new HeadPatching.Generated(HeadPatching.Direction.NOISING, "h" + p, "", true, "", noisedRefused[p]));
        // denoising: seed pair 0 newly refused (1 of 3), held-out pairs none
        for (int p = 0; p < 6; p++) gens.add(new HeadPatching.Generated(HeadPatching.Direction.DENOISING, "s" + p, "", false, "", p == 0));
        var f = HeadPatching.findings(m, List.of(direct, diagonal, both, other), gens, null, 3, false);
        var noise = f.get(0).measures().get(0);
        assertEquals(0.9, noise.value(), 1e-12);
        assertEquals(List.of(0.8, 0.9, 1.0), noise.perPair().stream().map(x -> Math.round(x * 1e9) / 1e9).toList());
        assertEquals(0.2, noise.interval().lo(), 1e-12);
        assertEquals(0.2, noise.interval().hi(), 1e-12);
        assertEquals(3, noise.interval().n());
        assertEquals(Verdict.PARTLY, f.get(0).verdict(), "0.9 over the seed pairs, but the held-out interval lies below 0.75");
        assertEquals(2 / 3.0, f.get(1).measures().get(0).value(), 1e-12);
        assertEquals(Verdict.PARTLY, f.get(1).verdict());
        assertEquals(0.6, f.get(2).measures().get(0).value(), 1e-12);
        assertEquals(Verdict.PARTLY, f.get(2).verdict(), "0.6 over the seed pairs; held-out 0.1 below 0.5");
        assertEquals(1 / 3.0, f.get(3).measures().get(0).value(), 1e-12);
        assertEquals(List.of(1.0, 0.0, 0.0), f.get(3).measures().get(0).perPair());
        assertEquals(Verdict.PARTLY, f.get(3).verdict(), "1 of 3 seed prompts newly refused; none of the held-out");
        assertEquals(-0.15, f.get(4).measures().get(0).value(), 1e-12);
        assertEquals(0.1 - 0.6 + 0.1, f.get(4).measures().get(1).value(), 1e-12);
        for (var x : f) assertEquals(x.verdict(), x.recomputed(false), x.claim());
    }
}
