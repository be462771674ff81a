package org.refusallab.analysis.directhead;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.math3.stat.inference.TTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Finding.Verdict;
import org.refusallab.api.study.HeadClasses;
import org.refusallab.api.study.HeadClasses.Kind;
import org.refusallab.api.study.PairTokens;
import org.refusallab.api.study.Study;
import org.refusallab.study.internal.InProcessSweep;
import org.refusallab.study.internal.StudyComponent;
import org.refusallab.testkit.DTensor;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testkit.lab.PlantedHeads;
import org.refusallab.testkit.lab.TestContext;
import org.refusallab.testsupport.RefusalLab;

@ExtendWith(RefusalLab.class)
class DirectHeadTest {

    private static Map<String, String> params() {
        Map<String, String> p = RefusalLab.Lab.studyParameters(1, -1, 4);
        p.put("randomDirections", "100");
        return p;
    }

    /** Every head's component against unbatched double-precision reference runs; the head set from head-classes. */
    @Test
    void headComponentsMatchTheUnbatchedReference(RefusalLab.Lab lab) throws Exception {
        for (String others : List.of("middle", "all")) {
            Map<String, String> p = params();
            p.put("others", others);
            AnalysisResult r = lab.run(new DirectHead(lab.studies()), p);
            double[] unit = Independent.unit(lab.independent().seedDirection(1, -1));
            var fig = Independent.figure(r, "head-refusal-component");
            double[] direct = Independent.series(fig, "direct heads"), other = Independent.series(fig, "other heads");
            HeadClasses hc = lab.studies().open(lab.context("probe", params())).headClasses();
            List<HeadClasses.Head> heads = new java.util.ArrayList<>();
            int from = others.equals("all") ? 0 : 1, to = others.equals("all") ? 4 : 3;  // tiny: 4 layers, classified L1-L3
            for (int l = from; l < to; l++) for (int h = 0; h < 4; h++) heads.add(new HeadClasses.Head(l, h));
            assertEquals(heads.size(), direct.length);
            for (int i = 0; i < heads.size(); i++) {
                HeadClasses.Head h = heads.get(i);
                double expected = 0;
                for (String[] pair : Independent.SEED) {
                    for (int k = 0; k < 2; k++) {
                        DTensor res = lab.independent().run(pair[k], List.of()).hook("blocks." + h.layer() + ".attn.hook_result");
                        double[] v = res.row(0, res.dim(1) - 1, h.head());
                        expected += (k == 0 ? 1 : -1) * Independent.dot(v, unit) / Independent.SEED.size();
                    }
                }
                boolean isDirect = hc.covers(h.layer()) && hc.kind(h.layer(), h.head()) == Kind.DIRECT;
                assertEquals(expected, isDirect ? direct[i] : other[i], 1e-4, h.label() + " " + others);
                assertEquals(0.0, isDirect ? other[i] : direct[i]);
            }
        }
    }

    @Test
    void welchMatchesCommonsMathAndThePermutationTestEnumerates() {
        double[] a = {3.1, 4.0, 5.2}, b = {1.0, 0.5, 1.7, 0.2, 1.1};
        GroupTests.Welch w = GroupTests.welch(a, b);
        assertEquals(new TTest().t(a, b), w.t(), 1e-12);
        assertEquals(new TTest().tTest(a, b), w.p(), 1e-9);
        // exact: C(8, 3) = 56 splits; brute force over bit masks
        double[] all = {3.1, 4.0, 5.2, 1.0, 0.5, 1.7, 0.2, 1.1};
        double obs = Math.abs(GroupTests.mean(a) - GroupTests.mean(b));
        int count = 0, splits = 0;
        for (int mask = 0; mask < 256; mask++) {
            if (Integer.bitCount(mask) != 3) continue;
            double sa = 0, sb = 0;
            for (int i = 0; i < 8; i++) { if ((mask >> i & 1) == 1) sa += all[i]; else sb += all[i]; }
            splits++;
            if (Math.abs(sa / 3 - sb / 5) >= obs - 1e-12) count++;
        }
        GroupTests.Permutation p = GroupTests.permutation(a, b, 1000, 1);
        assertTrue(p.exact());
        assertEquals(56, p.splits());
        assertEquals(count / (double) splits, p.p(), 1e-15);
        GroupTests.Permutation sampled = GroupTests.permutation(a, b, 20, 1);  // 56 > 20 splits: sampled
        assertFalse(sampled.exact());
        assertTrue(sampled.p() > 0 && sampled.p() <= 1);
        assertTrue(Double.isNaN(GroupTests.welch(new double[] {1}, b).p()));
    }

    /** Two planted direct heads write the refusal direction on harmful prompts: significant, top percentile. */
    @Test
    void findsPlantedDirectHeadsWritingTheDirection(RefusalLab.Lab lab) throws Exception {
        Study plain = lab.studies().open(lab.context("probe", params()));
        Set<Integer> subjects = new HashSet<>(), harmful = new HashSet<>();
        for (PairTokens pt : plain.pairTokens()) {
            subjects.add(pt.harmful()[pt.subject()]); subjects.add(pt.harmless()[pt.subject()]); harmful.add(pt.harmful()[pt.subject()]);
        }
        float[] unit = plain.direction().unit();
        float[] write = new float[unit.length];
        for (int i = 0; i < unit.length; i++) write[i] = 50 * unit[i];
        // direct(...) keeps the last subject set; both planted heads attend last -> subject
        PlantedHeads planted = new PlantedHeads(lab.model()).direct(1, 0, subjects).direct(2, 1, subjects)
                .writes(1, 0, write, harmful).writes(2, 1, write, harmful);
        var studies = new StudyComponent(new InProcessSweep(planted));
        TestContext ctx = TestContext.of(DirectHead.ID, planted, lab.configDirectory(), params());
        AnalysisResult r = Independent.wellFormed(new DirectHead(studies).run(ctx), true);
        HeadClasses hc = studies.open(ctx).headClasses();
        assertTrue(hc.heads(Kind.DIRECT).containsAll(List.of(new HeadClasses.Head(1, 0), new HeadClasses.Head(2, 1))), hc.heads(Kind.DIRECT).toString());
        assertEquals(Verdict.AGREES, r.findings().get(0).verdict(), r.findings().get(0).measured());
        assertEquals(Verdict.AGREES, r.findings().get(2).verdict(), r.findings().get(2).measured());
        var random = Independent.table(r, "random-directions-summary");
        assertEquals("100", random.rows().get(0).get(0));
    }

    /** W_V of the reference: hook_v = ln1(resid_pre) . W_V, in double precision, at every position of a prompt. */
    @Test
    void valueMatrixReproducesHookV(RefusalLab.Lab lab) {
        var run = lab.independent().run(Independent.SEED.get(0)[0], List.of());
        for (int l = 0; l < 4; l++) {
            var wv = lab.model().attnValueMatrix(l);
            double[] w = lab.model().reference().ln1Weight(l);
            DTensor x = run.hook("blocks." + l + ".hook_resid_pre"), scale = run.hook("blocks." + l + ".ln1.hook_scale"), v = run.hook("blocks." + l + ".attn.hook_v");
            for (int pos = 0; pos < x.dim(1); pos++) {
                for (int i = 0; i < wv.dim(2); i++) {
                    double expected = 0;
                    for (int d = 0; d < wv.dim(1); d++) expected += x.get(0, pos, d) / scale.get(0, pos, 0) * (1 + w[d]) * wv.get(0, d, i);
                    assertEquals(v.get(0, pos, 0, i), expected, 1e-5 * Math.max(1, Math.abs(expected)), "L" + l + " pos " + pos + " " + i);
                }
            }
        }
    }

    /** The OV directions' contributions add up to each direct head's refusal output (every middle head direct at threshold 0). */
    @Test
    void ovDirectionsExplainTheWholeHeadOutput(RefusalLab.Lab lab) throws Exception {
        Map<String, String> p = params();
        p.put("headClasses.threshold", "0");
        p.put("ovTop", "16");
        AnalysisResult r = lab.run(new DirectHead(lab.studies()), p);
        // every middle head is direct: no other heads, so the comparisons and random directions are not applicable
        for (var f : r.findings()) assertEquals(Verdict.NOT_APPLICABLE, f.verdict(), f.claim());
        assertTrue(r.figures().stream().noneMatch(f -> f.id().equals("random-directions")));
        var fig = Independent.figure(r, "ov-explained");
        assertEquals(8, fig.series().size());
        for (var s : fig.series()) assertEquals(1.0, s.values()[0][15], 1e-4, s.name());  // all 16 = d_head directions
        var table = Independent.table(r, "ov-directions");
        double[] scores = Independent.series(Independent.figure(r, "head-refusal-component"), "direct heads");
        // per head: the contributions of all 16 directions sum to the head's score (the table's text has 3 decimals)
        for (int i = 0; i < 8; i++) {
            String label = fig.series().get(i).name();
            double sum = 0;
            for (var row : table.rows()) if (row.get(0).equals(label)) sum += Double.parseDouble(row.get(5));
            assertEquals(scores[i], sum, 16 * 5e-4 + 1e-3 * Math.abs(scores[i]), label);
        }
    }

    private static DirectHead.Comparison comparison(double[] direct, double[] other) {
        return new DirectHead.Comparison(direct, other, GroupTests.mean(direct) - GroupTests.mean(other), GroupTests.cohensD(direct, other),
                GroupTests.welch(direct, other), GroupTests.permutation(direct, other, 10000, 1));
    }

    @Test
    void verdictRules() {
        double[] others = {0.1, -0.2, 0.05, 0.0, 0.15, -0.1, 0.2, -0.05, 0.1, 0.0};
        assertEquals(Verdict.AGREES, DirectHead.refusalVerdict(comparison(new double[] {5, 5.5, 6}, others), 0.05));
        assertEquals(Verdict.DISAGREES, DirectHead.refusalVerdict(comparison(new double[] {-5, -5.5, -6}, others), 0.05));
        assertEquals(Verdict.DISAGREES, DirectHead.refusalVerdict(comparison(new double[] {0.1, 0.0, 0.05}, others), 0.05));
        // one direct head: Welch undefined, the permutation test alone (min p 1/11 > 0.05): not significant
        assertEquals(Verdict.DISAGREES, DirectHead.refusalVerdict(comparison(new double[] {9}, others), 0.05));
        assertEquals(Verdict.AGREES, DirectHead.refusalVerdict(comparison(new double[] {9}, others), 0.1));
        // permutation significant (exact p = 1/C(12,2)) but Welch not (the two direct heads disagree wildly): PARTLY
        assertEquals(Verdict.PARTLY, DirectHead.refusalVerdict(comparison(new double[] {0.3, 40}, others), 0.05));
        assertEquals(Verdict.NOT_APPLICABLE, DirectHead.refusalVerdict(comparison(new double[0], others), 0.05));
        assertEquals(Verdict.AGREES, DirectHead.randomVerdict(new DirectHead.RandomSummary(100, 0.05, 0.1, 100, 99), 0.05));
        assertEquals(Verdict.PARTLY, DirectHead.randomVerdict(new DirectHead.RandomSummary(100, 0.15, 0.1, 100, 99), 0.05));
        assertEquals(Verdict.DISAGREES, DirectHead.randomVerdict(new DirectHead.RandomSummary(100, 0.5, 0.1, 100, 99), 0.05));
        assertEquals(Verdict.AGREES, DirectHead.percentileVerdict(new DirectHead.RandomSummary(100, 0, 0, 100, 96), 0.05));
        assertEquals(Verdict.PARTLY, DirectHead.percentileVerdict(new DirectHead.RandomSummary(100, 0, 0, 100, 85), 0.05));
        assertEquals(Verdict.DISAGREES, DirectHead.percentileVerdict(new DirectHead.RandomSummary(100, 0, 0, 100, 50), 0.05));
        // no other heads to compare with: nothing computed for the random directions
        DirectHead.RandomSummary none = new DirectHead.RandomSummary(100, Double.NaN, Double.NaN, 0, Double.NaN);
        assertEquals(Verdict.NOT_APPLICABLE, DirectHead.randomVerdict(none, 0.05));
        assertEquals(Verdict.NOT_APPLICABLE, DirectHead.percentileVerdict(none, 0.05));
    }
}
