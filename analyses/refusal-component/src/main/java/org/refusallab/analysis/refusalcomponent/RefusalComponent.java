package org.refusallab.analysis.refusalcomponent;

import java.util.ArrayList;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Describe;
import org.refusallab.api.model.Hooks;
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
 * The seed's "Quantifying the Refusal Component": the component of the residual stream along the unit refusal
 * direction at the last position, per layer ({@code blocks.L.hook_resid_pre}, then the last block's
 * {@code hook_resid_post}), mean over harmful and over harmless prompts.
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = RefusalComponent.ID, title = "The refusal component of the residual stream", order = 30,
        parameters = {RefusalComponent.Params.class, StudyParameters.class})
public final class RefusalComponent implements Analysis {

    public static final String ID = "refusal-component";

    @interface Params {
        @Describe("add the held-out pairs (study.heldOutPairs) to the seed's pairs")
        boolean includeHeldOut() default true;
    }

    private final StudyService studies;

    @Activate
    public RefusalComponent(@Reference StudyService studies) {
        this.studies = studies;
    }

    /** The residual points read: blocks.L.hook_resid_pre of every layer, then the last block's hook_resid_post. */
    static List<String> hooks(int n) {
        List<String> hooks = new ArrayList<>();
        for (int l = 0; l < n; l++) hooks.add(Hooks.residPre(l));
        hooks.add(Hooks.residPost(n - 1));
        return hooks;
    }

    /** Mean component per residual point (n resid_pre then the last resid_post): [0] harmful, [1] harmless. */
    public static double[][] components(Study study, List<PromptPair> pairs) {
        double[][][] per = perPair(study, pairs);
        int points = study.nLayers() + 1;
        double[][] out = new double[2][points];
        for (int kind = 0; kind < 2; kind++) {
            for (double[][] pair : per) for (int l = 0; l < points; l++) out[kind][l] += pair[kind][l] / pairs.size();
        }
        return out;
    }

    /** [pair][0 harmful, 1 harmless][residual point]: the component at the last position of each prompt. */
    static double[][][] perPair(Study study, List<PromptPair> pairs) {
        int n = study.nLayers();
        float[] unit = study.direction().unit();
        List<String> hooks = hooks(n);
        // harmful prompts then harmless ones, in the same sweep; x . r/|r| at the last position of each residual point
        List<String> all = new ArrayList<>(pairs.stream().map(PromptPair::harmful).toList());
        all.addAll(pairs.stream().map(PromptPair::harmless).toList());
        List<Row> rows = new ArrayList<>();
        for (int[] t : study.chat(all)) {
            Row r = Row.of(t);
            for (String h : hooks) r = r.reading(ReadOut.projection(h, new int[] {-1}, unit));
            rows.add(r);
        }
        List<RowResult> res = study.sweep(rows);
        double[][][] out = new double[pairs.size()][2][n + 1];
        for (int kind = 0; kind < 2; kind++) {
            int offset = kind == 0 ? 0 : pairs.size();
            for (int i = 0; i < pairs.size(); i++) {
                for (int l = 0; l <= n; l++) out[i][kind][l] = res.get(offset + i).projection(l)[0][0];
            }
        }
        return out;
    }

    public static List<String> labels(int n) {
        List<String> xs = new ArrayList<>();
        for (int l = 0; l < n; l++) xs.add("L" + l + " resid_pre");
        xs.add("L" + (n - 1) + " resid_post");
        return xs;
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Params params = context.parameters(Params.class);
        List<PromptPair> pairs = study.pairs(params.includeHeldOut());
        Provenance provenance = Provenance.builder().read(hooks(study.nLayers())).direction(study.direction().provenance()).build();
        int n = study.nLayers();
        double[][][] per = perPair(study, pairs);
        double[][] c = new double[2][n + 1];
        double[][] gaps = new double[pairs.size()][n + 1];
        for (int i = 0; i < pairs.size(); i++) {
            for (int l = 0; l <= n; l++) {
                c[0][l] += per[i][0][l] / pairs.size();
                c[1][l] += per[i][1][l] / pairs.size();
                gaps[i][l] = per[i][0][l] - per[i][1][l];
            }
        }
        double[] gap = new double[n + 1];
        for (int l = 0; l <= n; l++) gap[l] = c[0][l] - c[1][l];

        Figure fig = Figure.line("refusal-component").title("Refusal component at the last position by layer")
                .x("residual stream point", labels(n)).y("component along the unit refusal direction", "residual units")
                .series("harmful", c[0]).series("harmless", c[1]).series("harmful - harmless", gap)
                .caption("x . r / |r| at the last token, mean over " + pairs.size() + " prompts of each kind; r = the refusal direction (layer "
                        + study.direction().layer() + ", position " + study.direction().position() + ").")
                .provenance(provenance).build();
        List<List<String>> rows = new ArrayList<>();
        for (int l = 0; l <= n; l++) rows.add(List.of(labels(n).get(l), Stats.fmt(c[0][l]), Stats.fmt(c[1][l]), Stats.fmt(gap[l])));
        Table table = Table.of("refusal-component-table").title("Refusal component by layer")
                .columns("hook", "harmful", "harmless", "harmful - harmless").rows(rows).provenance(provenance).build();
        return new AnalysisResult("Projection of the residual stream on the refusal direction at the last position, harmful vs harmless.",
                List.of(fig), List.of(table), findings(gaps, study.pairs().size(), n));
    }

    /** The pair-mean gap per residual point over the pairs at {@code idx}. */
    static double[] meanGap(double[][] gaps, int[] idx) {
        double[] g = new double[gaps[0].length];
        for (int i : idx) for (int l = 0; l < g.length; l++) g[l] += gaps[i][l] / idx.length;
        return g;
    }

    /** Largest |gap| at residual points 0..a over the largest |gap| anywhere (0 if there is no gap). */
    static double earlyShare(double[] gap, int a) {
        double maxAbs = 0, early = 0;
        for (double g : gap) maxAbs = Math.max(maxAbs, Math.abs(g));
        for (int l = 0; l <= a && l < gap.length; l++) early = Math.max(early, Math.abs(gap[l]));
        return maxAbs == 0 ? 0 : early / maxAbs;
    }

    /** The largest one-layer increase of the gap between a and b as a share of the growth a -> b (1 if it does not grow). */
    static double largestStepShare(double[] gap, int a, int b) {
        double total = gap[b] - gap[a], largest = Double.NEGATIVE_INFINITY;
        if (!(total > 0)) return 1;
        for (int l = a; l < b; l++) largest = Math.max(largest, gap[l + 1] - gap[l]);
        return largest / total;
    }

    /** |change of the gap after b| / |gap at b| (1 if the gap at b is 0). */
    static double lateChange(double[] gap, int b) {
        double gb = gap[b];
        return gb == 0 ? 1 : Math.abs((gap[gap.length - 1] - gb) / gb);
    }

    /** Findings on per-pair gaps (harmful - harmless) at each residual point: the seed pairs first, then held-out pairs. */
    static List<Finding> findings(double[][] gaps, int nSeed, int n) {
        int a = LayerGroups.scaled(3, n), b = Math.min(LayerGroups.scaled(12, n), n);
        int nHeld = gaps.length - nSeed;
        String note = Verdicts.layerRule(n, 3, 12);
        Measure early = Verdicts.overPairs("largest |gap| up to L" + a + " / largest |gap|", nSeed, nHeld, idx -> earlyShare(meanGap(gaps, idx), a));
        Measure step = Verdicts.overPairs("largest one-layer step's share of the L" + a + " -> L" + b + " growth", nSeed, nHeld,
                idx -> largestStepShare(meanGap(gaps, idx), a, b));
        Measure late = Verdicts.overPairs("|gap change after L" + b + "| / |gap at L" + b + "|", nSeed, nHeld, idx -> lateChange(meanGap(gaps, idx), b));
        double[] seedGap = meanGap(gaps, java.util.stream.IntStream.range(0, nSeed).toArray());
        String growth = String.format(java.util.Locale.ROOT, "Gap at L%d %s, at L%d %s (seed pairs).", a, Stats.fmt(seedGap[a]), b, Stats.fmt(seedGap[b]));
        return List.of(
                Finding.judge("The refusal component is identical for harmful and harmless instructions up to L3.",
                        Rule.below("identical = the largest |gap| up to L3 is under 5 % of the largest |gap| anywhere", 0.05).partly(0.2), false, note, early),
                Finding.judge("The gap in the refusal component grows steadily between L3 and L12.",
                        Rule.below("steadily = no single layer adds half or more of the growth from L3 to L12 (a share of 1 when it does not grow)", 0.5),
                        false, (note + " " + growth).trim(), step),
                Finding.judge("After L12 the trend is basically the same: the direction is not computed afterwards.",
                        Rule.below("basically the same = the gap changes by under 25 % of its L12 value after L12", 0.25).partly(0.5), false, note, late));
    }
}
