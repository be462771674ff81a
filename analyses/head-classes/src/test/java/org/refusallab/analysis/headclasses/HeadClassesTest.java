package org.refusallab.analysis.headclasses;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
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
class HeadClassesTest {

    private static Map<String, String> params() {
        return RefusalLab.Lab.studyParameters(1, -1, 4);  // maxBatch 4: the six prompts run in padded batches
    }

    /** Every score against the reference's unbatched double-precision pattern, for both diagonal readings. */
    @Test
    void scoresMatchTheUnbatchedReference(RefusalLab.Lab lab) throws Exception {
        for (String reading : List.of("mean", "sum")) {
            Map<String, String> p = params();
            p.put("headClasses.diagonal", reading);
            AnalysisResult r = lab.run(new HeadClassesAnalysis(lab.studies()), p);
            // the tiny model: 4 layers -> the seed's L6-L12 scaled is L1-L3 (half-open), 4 heads each
            double[][][] expected = independentScores(lab, 1, 3, reading);
            String[] ids = {"bos-score", "direct-score", "diagonal-score"};
            for (int s = 0; s < 3; s++) {
                double[][] cells = Independent.figure(r, ids[s]).series().get(0).values();
                assertEquals(2, cells.length);
                for (int l = 0; l < 2; l++) {
                    for (int h = 0; h < 4; h++) assertEquals(expected[s][l][h], cells[l][h], 1e-5, ids[s] + " L" + (l + 1) + "H" + h + " " + reading);
                }
            }
            // the class table follows the rule on the independent scores (the table's text is rounded)
            var table = Independent.table(r, "head-classes-table");
            for (var row : table.rows()) {
                int l = Integer.parseInt(row.get(1)) - 1, h = Integer.parseInt(row.get(2));
                Kind k = HeadClasses.classify(expected[1][l][h], expected[2][l][h], expected[0][l][h], 0.2, 0.5);
                assertEquals(k.name().toLowerCase(), row.get(6), row.toString());
            }
        }
    }

    /** [score][layer - from][head]: bos, direct, diagonal, each prompt run alone in double precision, then averaged. */
    static double[][][] independentScores(RefusalLab.Lab lab, int from, int to, String reading) {
        double[][][] out = new double[3][to - from][4];
        int prompts = 0;
        for (String[] pair : Independent.SEED) {
            int[] a = lab.independent().chat(pair[0]), b = lab.independent().chat(pair[1]);
            int subject = -1;
            for (int i = 0; i < a.length; i++) if (a[i] != b[i]) subject = i;
            for (String prompt : pair) {
                prompts++;
                var run = lab.independent().run(prompt, List.of());
                for (int l = from; l < to; l++) {
                    DTensor pat = run.hook("blocks." + l + ".attn.hook_pattern");
                    int n = a.length;
                    for (int h = 0; h < 4; h++) {
                        double bos = 0, diag = 0;
                        for (int q = 1; q < n; q++) { bos += pat.get(0, h, q, 0); diag += pat.get(0, h, q, q - 1); }
                        out[0][l - from][h] += bos / (n - 1);
                        out[1][l - from][h] += pat.get(0, h, n - 1, subject);
                        out[2][l - from][h] += reading.equals("mean") ? diag / (n - 1) : diag;
                    }
                }
            }
        }
        for (double[][] s : out) for (double[] l : s) for (int h = 0; h < 4; h++) l[h] /= prompts;
        return out;
    }

    /** A model whose L2H1 attends last -> subject and whose L1H3 attends to the previous token: both are found. */
    @Test
    void findsPlantedDirectAndDiagonalHeads(RefusalLab.Lab lab) throws Exception {
        Study plain = lab.studies().open(lab.context("probe", params()));
        Set<Integer> subjects = new HashSet<>();
        for (PairTokens pt : plain.pairTokens()) { subjects.add(pt.harmful()[pt.subject()]); subjects.add(pt.harmless()[pt.subject()]); }
        PlantedHeads planted = new PlantedHeads(lab.model()).direct(2, 1, subjects).diagonal(1, 3);
        var studies = new StudyComponent(new InProcessSweep(planted));
        TestContext ctx = TestContext.of(HeadClassesAnalysis.ID, planted, lab.configDirectory(), params());
        AnalysisResult r = Independent.wellFormed(new HeadClassesAnalysis(studies).run(ctx), true);
        HeadClasses hc = studies.open(ctx).headClasses();
        assertEquals(Kind.DIRECT, hc.kind(2, 1));
        assertEquals(1.0, hc.direct(new HeadClasses.Head(2, 1)), 1e-6);
        assertEquals(Kind.DIAGONAL, hc.kind(1, 3));
        assertEquals(1.0, hc.diagonal(new HeadClasses.Head(1, 3)), 1e-6);
        assertTrue(hc.heads(Kind.DIRECT).contains(new HeadClasses.Head(2, 1)));
        var counts = Independent.table(r, "head-class-counts");
        assertTrue(counts.rows().get(0).get(4).contains("L2H1"), counts.rows().toString());
        Figure example = Independent.figure(r, "example-direct");
        assertTrue(example.title().contains("L"), example.title());
        // the diagonal claim under both readings of the seed's "sum of the diagonal entries"
        assertEquals(4, r.findings().size());
        assertEquals("diagonal score: mean", r.findings().get(1).reading());
        assertEquals("diagonal score: sum", r.findings().get(2).reading());
        Map<String, String> sumParams = new java.util.HashMap<>(params());
        sumParams.put("headClasses.diagonal", "sum");
        HeadClasses sum = studies.open(TestContext.of(HeadClassesAnalysis.ID, planted, lab.configDirectory(), sumParams)).headClasses();
        assertTrue(r.findings().get(2).measures().get(0).basis().startsWith(sum.heads(Kind.DIAGONAL).size() + " of "), r.findings().get(2).toString());
    }

    /** The classes are one shared value per run: a second analysis (another bundle in production) gets the same object. */
    @Test
    void classesAreSharedAcrossAnalysesInEitherOrder(RefusalLab.Lab lab) {
        Study second = lab.studies().open(lab.context("direct-head", params()));
        HeadClasses first = second.headClasses();
        Study third = lab.studies().open(lab.context(HeadClassesAnalysis.ID, params()));
        assertSame(first, third.headClasses());
        Map<String, String> other = new HashMap<>(params());
        other.put("headClasses.threshold", "0.9");
        HeadClasses strict = lab.studies().open(lab.context("direct-head", other)).headClasses();
        assertEquals(0.9, strict.threshold());
    }

    @Test
    void verdictRules() {
        assertEquals(Finding.Verdict.DISAGREES, HeadClassesAnalysis.countVerdict(0, 48, 8 / 48.0));
        assertEquals(Finding.Verdict.AGREES, HeadClassesAnalysis.countVerdict(8, 48, 8 / 48.0));
        assertEquals(Finding.Verdict.AGREES, HeadClassesAnalysis.countVerdict(1, 8, 8 / 48.0));
        assertEquals(Finding.Verdict.PARTLY, HeadClassesAnalysis.countVerdict(30, 48, 8 / 48.0));
        assertEquals(Finding.Verdict.PARTLY, HeadClassesAnalysis.countVerdict(1, 48, 8 / 48.0));
        assertEquals(Finding.Verdict.AGREES, HeadClassesAnalysis.bosVerdict(3));
        assertEquals(Finding.Verdict.DISAGREES, HeadClassesAnalysis.bosVerdict(0));
        assertEquals(Kind.DIRECT, HeadClasses.classify(0.2, 0.9, 0.9, 0.2, 0.5));
        assertEquals(Kind.DIAGONAL, HeadClasses.classify(0.1, 0.2, 0.9, 0.2, 0.5));
        assertEquals(Kind.BOS, HeadClasses.classify(0.1, 0.1, 0.5, 0.2, 0.5));
        assertEquals(Kind.OTHER, HeadClasses.classify(0.1, 0.1, 0.4, 0.2, 0.5));
    }
}
