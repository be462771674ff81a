package org.refusallab.analysis.selfrepair;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Describe;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Measure;
import org.refusallab.api.result.Rule;
import org.refusallab.api.result.Provenance;
import org.refusallab.api.result.Table;
import org.refusallab.api.study.LayerGroups;
import org.refusallab.api.study.PromptPair;
import org.refusallab.api.study.Stats;
import org.refusallab.api.study.Study;
import org.refusallab.api.study.StudyParameters;
import org.refusallab.api.study.StudyService;
import org.refusallab.api.study.Verdicts;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;

/**
 * The seed's "Refusal is Subject to Self-Repair": the refusal direction projected out of {@code hook_resid_pre} of one
 * layer only (every layer in turn, one intervention each), then the refusal component (residual . r/|r|) at the last
 * position of every later layer's {@code hook_resid_pre} and of the last {@code hook_resid_post}, against the
 * unablated run. Recovery = mean ablated / mean baseline component after the last layer. Every (prompt, ablated
 * layer) is a row of one batched sweep.
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = SelfRepair.ID, title = "Self-repair of the refusal component", order = 110,
        parameters = {SelfRepair.Params.class, StudyParameters.class})
public final class SelfRepair implements Analysis {

    public static final String ID = "self-repair";

    enum Prompts { HARMFUL, HARMLESS }

    enum Positions { ALL, LAST }

    @interface Params {
        @Describe("which prompts of the pairs are ablated: harmful (the seed's reading: refusal to recover) or harmless")
        Prompts prompts() default Prompts.HARMFUL;

        @Describe("positions the direction is projected out of at the ablated layer: all (every position, as the seed's ablation) or last")
        Positions positions() default Positions.ALL;

        @Describe("add the held-out pairs (study.heldOutPairs) to the seed's pairs")
        boolean includeHeldOut() default true;
    }

    private final StudyService studies;

    @Activate
    public SelfRepair(@Reference StudyService studies) {
        this.studies = studies;
    }

    /**
     * Means over the prompts. {@code component[a][m]}: a = 0 the unablated run, a = L + 1 ablation at layer L; m = the
     * residual entering layer m ({@code hook_resid_pre}), m = nLayers the residual after the last layer. {@code metric[a]}
     * the refusal metric of the same runs.
     */
    record Measured(double[][] component, double[] metric) {
        int nLayers() { return metric.length - 1; }

        /** Ablated / baseline component after the last layer, per ablated layer. */
        double[] recovery() {
            int n = nLayers();
            double[] out = new double[n];
            for (int l = 0; l < n; l++) out[l] = component[l + 1][n] / component[0][n];
            return out;
        }
    }

    /** The ablation at one layer, as one intervention; {@code positions} null = every position. */
    static Intervention ablation(int layer, float[] unit, Positions positions) {
        Intervention.Site site = Intervention.at(Hooks.residPre(layer));
        return (positions == Positions.LAST ? site.positions(-1) : site).projectOut(unit);
    }

    /**
     * One sweep: per prompt, the unablated row and one row per ablated layer; {@code everyRow} is added to each row
     * (empty in the analysis; tests use it to build settings with a known answer).
     */
    static Measured measure(Study study, List<int[]> prompts, float[] unit, Positions positions, List<Intervention> everyRow) {
        int n = study.nLayers();
        List<Row> rows = new ArrayList<>();
        for (int[] t : prompts) {
            for (int a = 0; a <= n; a++) {
                Row row = Row.of(t).with(everyRow);
                if (a > 0) row = row.with(ablation(a - 1, unit, positions));
                row = row.reading(ReadOut.metric(study.metric()));
                for (int m = 0; m < n; m++) row = row.reading(ReadOut.projection(Hooks.residPre(m), new int[] {-1}, unit));
                rows.add(row.reading(ReadOut.projection(Hooks.residPost(n - 1), new int[] {-1}, unit)));
            }
        }
        List<RowResult> res = study.sweep(rows);
        double[][] component = new double[n + 1][n + 1];
        double[] metric = new double[n + 1];
        for (int p = 0; p < prompts.size(); p++) {
            for (int a = 0; a <= n; a++) {
                RowResult r = res.get(p * (n + 1) + a);
                metric[a] += r.metric(0) / prompts.size();
                for (int m = 0; m <= n; m++) component[a][m] += r.projection(1 + m)[0][0] / prompts.size();
            }
        }
        return new Measured(component, metric);
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Params params = context.parameters(Params.class);
        List<PromptPair> pairs = study.pairs(params.includeHeldOut());
        List<String> texts = pairs.stream().map(p -> params.prompts() == Prompts.HARMFUL ? p.harmful() : p.harmless()).toList();
        int n = study.nLayers();
        float[] unit = study.direction().unit();
        Measured m = measure(study, study.chat(texts), unit, params.positions(), List.of());
        double[] recovery = m.recovery();

        List<String> measuredLabels = new ArrayList<>(), ablatedLabels = new ArrayList<>(), layers = new ArrayList<>();
        for (int l = 0; l < n; l++) {
            measuredLabels.add("L" + l);
            ablatedLabels.add("ablate L" + l);
            layers.add("L" + l);
        }
        measuredLabels.add("final");
        double[][] cells = new double[n][n + 1];
        for (int a = 0; a < n; a++) {
            for (int j = 0; j <= n; j++) cells[a][j] = j < a ? Double.NaN : m.component()[a + 1][j] / m.component()[0][j];
        }
        List<Intervention> ablations = new ArrayList<>();
        for (int l = 0; l < n; l++) ablations.add(ablation(l, unit, params.positions()));
        Provenance prov = Provenance.builder().read(Hooks.everyLayer("hook_resid_pre"), Hooks.residPost(n - 1)).ran(ablations)
                .direction(study.direction().provenance()).build();
        String who = params.prompts().name().toLowerCase() + " prompts (" + texts.size() + ")";
        String where = params.positions() == Positions.ALL ? "every position" : "the last position";
        Figure heat = Figure.heatmap("self-repair-heatmap").title("Refusal component after a single-layer ablation, as a fraction of the unablated run")
                .x("measured at (hook_resid_pre; final = last hook_resid_post)", measuredLabels).rows(ablatedLabels).y("ablated layer", "fraction")
                .cells("ablated / unablated component", cells)
                .caption("Direction projected out of blocks.L.hook_resid_pre at " + where + "; component = residual . r/|r| at the last position, mean over "
                        + who + ", divided by the unablated mean at the same hook. Cells before the ablated layer are blank (unchanged).")
                .provenance(prov).build();
        Figure curve = Figure.line("recovery-curve").title("Recovery after the last layer").x("ablated layer", layers).y("ablated / unablated component", "fraction")
                .series("recovery", recovery).referenceLine("full recovery", 1).referenceLine("no recovery", 0)
                .caption("Mean final refusal component with the ablation / without, " + who + ".").provenance(prov).build();
        double[] metrics = Arrays.copyOfRange(m.metric(), 1, n + 1);
        Figure metricFig = Figure.line("metric-under-ablation").title("Refusal metric under each single-layer ablation").x("ablated layer", layers)
                .y("refusal metric", "logit units").series("ablated", metrics).referenceLine("unablated", m.metric()[0])
                .caption("Mean refusal metric (" + study.metric() + ") over " + who + ".").provenance(prov).build();
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("none", Stats.fmt(m.component()[0][n]), "1", Stats.fmt(m.metric()[0])));
        for (int l = 0; l < n; l++) {
            rows.add(List.of("L" + l, Stats.fmt(m.component()[l + 1][n]), Stats.fmt(recovery[l]), Stats.fmt(m.metric()[l + 1])));
        }
        Table table = Table.of("self-repair-table").title("Final refusal component and metric per ablated layer")
                .columns("ablated layer", "final component", "recovery", "metric").rows(rows)
                .caption("Means over " + who + "; recovery = final component / unablated final component.").provenance(prov).build();
        return new AnalysisResult("The refusal direction projected out of one layer's residual stream at a time: how much of the refusal component the later layers write back.",
                List.of(heat, curve, metricFig), List.of(table), findings(recovery, n));
    }

    static final Rule RECOVERS = Rule.atLeast("tends to recover = the median recovery over the ablated layers is at least 0.5 (PARTLY: only the largest is)", 0.5);
    static final Rule EARLIER = Rule.atMost("stronger the earlier = Spearman rho of recovery with the ablated layer <= -0.5 (PARTLY: negative)", -0.5)
            .partly(-Double.MIN_VALUE);
    static final Rule L5 = Rule.atLeast("close to the original = recovery after ablating L5 >= 0.8 (PARTLY >= 0.5)", 0.8).partly(0.5);

    static List<Finding> findings(double[] recovery, int n) {
        String note = Verdicts.layerRule(n, 5);
        int l5 = Math.min(n - 1, LayerGroups.scaled(5, n));
        double median = median(recovery), max = Arrays.stream(recovery).max().orElse(0);
        double rho = spearmanWithLayer(recovery);
        return List.of(
                Finding.judge("The refusal component tends to recover after being ablated.", RECOVERS, false, "",
                        Measure.of("median recovery", median, "over the " + n + " ablated layers"), Measure.of("largest recovery", max, "over the " + n + " ablated layers")),
                Finding.judge("The recovery is stronger the earlier the ablation.", EARLIER, false, "",
                        Measure.of("Spearman rho of recovery with the ablated layer", rho, n + " layers")),
                Finding.judge("When L5 is ablated, the refusal component recovers close to the original amount.", L5, false, note,
                        Measure.of("recovery after ablating L" + l5, recovery[l5], "")));
    }

    static Finding.Verdict recoversVerdict(double median, double max) {
        return RECOVERS.judge(List.of(Measure.of("median", median, ""), Measure.of("max", max, "")), false);
    }

    static Finding.Verdict earlierVerdict(double rho) {
        return EARLIER.judge(Measure.of("rho", rho, ""));
    }

    static Finding.Verdict l5Verdict(double recovery) {
        return L5.judge(Measure.of("recovery", recovery, ""));
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Spearman's rho of the values against their index (ties in the values get average ranks); 0 for fewer than 2. */
    static double spearmanWithLayer(double[] ys) {
        int n = ys.length;
        if (n < 2) return 0;
        double[] ranks = ranks(ys), xs = new double[n];
        for (int i = 0; i < n; i++) xs[i] = i + 1;
        double mx = Stats.mean(xs), my = Stats.mean(ranks), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++) {
            sxy += (xs[i] - mx) * (ranks[i] - my);
            sxx += (xs[i] - mx) * (xs[i] - mx);
            syy += (ranks[i] - my) * (ranks[i] - my);
        }
        return syy == 0 ? 0 : sxy / Math.sqrt(sxx * syy);
    }

    private static double[] ranks(double[] ys) {
        int n = ys.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(ys[a], ys[b]));
        double[] ranks = new double[n];
        for (int i = 0; i < n; ) {
            int j = i;
            while (j + 1 < n && ys[order[j + 1]] == ys[order[i]]) j++;
            for (int k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2.0 + 1;
            i = j + 1;
        }
        return ranks;
    }
}
