package org.refusallab.analysis.selfrepair;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.result.Finding.Verdict;
import org.refusallab.api.study.Study;
import org.refusallab.testkit.ReferenceRun;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Lab;

@ExtendWith(RefusalLab.class)
class SelfRepairTest {

    /**
     * Heatmap, recovery and metric against unbatched double reference forwards with the single-layer ablation
     * written out, for both position readings.
     */
    @Test
    void everyCellMatchesTheDoubleReference(Lab lab) throws Exception {
        Independent ind = lab.independent();
        int n = lab.model().info().nLayers();
        double[] r = Independent.unit(ind.seedDirection(1, -1));
        float[] rf = Independent.toFloat(r);
        for (String positions : new String[] {"all", "last"}) {
            Map<String, String> params = new HashMap<>(Lab.studyParameters(1, -1, 8));
            params.put("positions", positions);
            var result = Independent.wellFormed(lab.run(new SelfRepair(lab.studies()), params));
            double[][] comp = new double[n + 1][n + 1];
            double[] metric = new double[n + 1];
            for (String[] pair : Independent.SEED) {
                int last = ind.chat(pair[0]).length - 1;
                for (int a = 0; a <= n; a++) {
                    List<Intervention> iv = new ArrayList<>();
                    if (a > 0) {
                        var site = Intervention.at("blocks." + (a - 1) + ".hook_resid_pre");
                        iv.add(positions.equals("last") ? site.positions(last).projectOut(rf) : site.projectOut(rf));
                    }
                    ReferenceRun run = ind.run(pair[0], iv);
                    for (int m = 0; m < n; m++) comp[a][m] += Independent.dot(run.hook("blocks." + m + ".hook_resid_pre").row(0, last), r) / 3;
                    comp[a][n] += Independent.dot(run.hook("blocks." + (n - 1) + ".hook_resid_post").row(0, last), r) / 3;
                    metric[a] += ind.logitMetric(pair[0], iv, "I") / 3;
                }
            }
            double[][] cells = Independent.figure(result, "self-repair-heatmap").series().get(0).values();
            for (int a = 0; a < n; a++) {
                for (int m = 0; m <= n; m++) {
                    if (m < a) assertTrue(Double.isNaN(cells[a][m]), "blank before the ablated layer");
                    else assertEquals(comp[a + 1][m] / comp[0][m], cells[a][m], 1e-4 * Math.max(1, Math.abs(cells[a][m])), positions + " ablate " + a + " at " + m);
                }
                // the ablated hook itself is read after the ablation: nothing of r is left at the last position
                assertEquals(0, comp[a + 1][a], 1e-5);
            }
            double[] recovery = Independent.series(Independent.figure(result, "recovery-curve"), "recovery");
            double[] metrics = Independent.series(Independent.figure(result, "metric-under-ablation"), "ablated");
            for (int a = 0; a < n; a++) {
                assertEquals(comp[a + 1][n] / comp[0][n], recovery[a], 1e-4);
                assertEquals(metric[a + 1], metrics[a], 1e-4);
            }
            assertEquals(metric[0], Independent.figure(result, "metric-under-ablation").referenceLines().get(0).value(), 1e-4);
            assertEquals(3, result.findings().size());
        }
    }

    /**
     * A setting with a known answer: with every block's attention and MLP output zeroed, no later layer can write the
     * direction back, so an ablation leaves no refusal component anywhere after it (recovery 0), and the unablated
     * component is the embedding's at every layer.
     */
    @Test
    void withoutLaterWritesThereIsNoRepair(Lab lab) {
        int n = lab.model().info().nLayers();
        Study study = lab.studies().open(lab.context(SelfRepair.ID, Lab.studyParameters(1, -1, 8)));
        float[] unit = Independent.toFloat(Independent.unit(lab.independent().seedDirection(1, -1)));
        List<Intervention> silent = new ArrayList<>();
        for (int l = 0; l < n; l++) {
            silent.add(Intervention.at("blocks." + l + ".hook_attn_out").zero());
            silent.add(Intervention.at("blocks." + l + ".hook_mlp_out").zero());
        }
        List<int[]> prompts = study.chat(List.of(Independent.SEED.get(0)[0], Independent.SEED.get(1)[0]));
        var m = SelfRepair.measure(study, prompts, unit, SelfRepair.Positions.ALL, silent);
        for (int j = 1; j <= n; j++) assertEquals(m.component()[0][0], m.component()[0][j], 1e-4, "unablated component is constant");
        assertTrue(Math.abs(m.component()[0][n]) > 1e-3, "the embedding has a component to remove");
        for (int a = 0; a < n; a++) {
            for (int j = a; j <= n; j++) assertEquals(0, m.component()[a + 1][j], 1e-5, "ablate " + a + " at " + j);
            assertEquals(0, m.recovery()[a], 1e-4);
        }
        // and with the blocks left as they are, the model does write some of it back
        var real = SelfRepair.measure(study, prompts, unit, SelfRepair.Positions.ALL, List.of());
        double written = 0;
        for (int a = 0; a < n; a++) written += Math.abs(real.component()[a + 1][n]);
        assertTrue(written > 1e-3);
    }

    @Test
    void badParametersAreNamed(Lab lab) {
        Map<String, String> params = new HashMap<>(Lab.studyParameters(1, -1, 8));
        params.put("prompts", "everyone");
        var e = assertThrows(IllegalArgumentException.class, () -> lab.run(new SelfRepair(lab.studies()), params));
        assertTrue(e.getMessage().contains("self-repair") && e.getMessage().contains("prompts") && e.getMessage().contains("'everyone'"), e.getMessage());
    }

    @Test
    void verdictRulesGiveEveryOutcome() {
        assertEquals(Verdict.AGREES, SelfRepair.recoversVerdict(0.6, 0.9));
        assertEquals(Verdict.PARTLY, SelfRepair.recoversVerdict(0.1, 0.6));
        assertEquals(Verdict.DISAGREES, SelfRepair.recoversVerdict(0.1, 0.3));
        assertEquals(Verdict.AGREES, SelfRepair.earlierVerdict(-0.9));
        assertEquals(Verdict.PARTLY, SelfRepair.earlierVerdict(-0.2));
        assertEquals(Verdict.DISAGREES, SelfRepair.earlierVerdict(0.3));
        assertEquals(Verdict.AGREES, SelfRepair.l5Verdict(0.95));
        assertEquals(Verdict.PARTLY, SelfRepair.l5Verdict(0.6));
        assertEquals(Verdict.DISAGREES, SelfRepair.l5Verdict(0.1));
        assertEquals(-1.0, SelfRepair.spearmanWithLayer(new double[] {0.9, 0.5, 0.4, -1}), 1e-12);
        assertEquals(1.0, SelfRepair.spearmanWithLayer(new double[] {1, 2, 3}), 1e-12);
        assertEquals(0.0, SelfRepair.spearmanWithLayer(new double[] {2, 2, 2}), 1e-12);
        assertEquals(0.5, SelfRepair.median(new double[] {0.9, 0.1, 0.5}), 1e-12);
        assertEquals(0.4, SelfRepair.median(new double[] {0.9, 0.1, 0.3, 0.5}), 1e-12);
    }
}
