package org.refusallab.analysis.singleblockpatching;

import java.util.ArrayList;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Assumption;
import org.refusallab.api.analysis.Describe;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Provenance;
import org.refusallab.api.result.Table;
import org.refusallab.api.study.PairTokens;
import org.refusallab.api.study.RefusalMetric;
import org.refusallab.api.study.Stats;
import org.refusallab.api.study.Study;
import org.refusallab.api.study.StudyParameters;
import org.refusallab.api.study.StudyService;
import org.refusallab.api.study.Verdicts;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;

/**
 * The seed's "Activation Patching Individual Transformer Blocks" (noising): run each harmful prompt and patch in its
 * harmless twin's {@code hook_attn_out} or {@code hook_mlp_out} of one layer; for comparison the same for
 * {@code hook_resid_pre}. Fraction recovered as in block-group patching (base run = harmful, source run = harmless).
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = SingleBlockPatching.ID, title = "Patching single blocks (noising)", order = 70,
        parameters = {SingleBlockPatching.Params.class, StudyParameters.class},
        assumes = Assumption.RESIDUAL_IS_SUM_OF_BLOCK_OUTPUTS)
public final class SingleBlockPatching implements Analysis {

    public static final String ID = "single-block-patching";
    public static final List<String> HOOKS = List.of("hook_attn_out", "hook_mlp_out", "hook_resid_pre");

    /** Where a block's output is patched. */
    enum Positions { ALL, LAST, SUBJECT }

    @interface Params {
        @Describe("patch at all, last or subject positions")
        Positions positions() default Positions.ALL;

        @Describe("fraction drawn as the threshold line and used by the findings")
        double threshold() default 0.5;
    }

    private final StudyService studies;

    @Activate
    public SingleBlockPatching(@Reference StudyService studies) {
        this.studies = studies;
    }

    /** patched[hook][layer][pair]; base = harmful run's, source = harmless run's metric per pair; the interventions run. */
    public record Result(List<PairTokens> pairs, double[][][] patched, double[] base, double[] source, List<Intervention> interventions) {
        public double fraction(int hook, int layer) {
            return Stats.recovered(Stats.mean(patched[hook][layer]), Stats.mean(base), Stats.mean(source));
        }
    }

    public static Result compute(Study study, Positions positions) {
        List<PairTokens> pairs = study.pairTokens();
        int n = study.nLayers();
        RefusalMetric metric = study.metric();
        // source runs (harmless) read their metric and every patched hook; base runs (harmful) their metric; one sweep
        List<Row> runs = new ArrayList<>();
        for (PairTokens p : pairs) {
            Row r = Row.of(p.harmless()).reading(ReadOut.metric(metric));
            for (String h : HOOKS) for (int l = 0; l < n; l++) r = r.reading(ReadOut.activationAll(Hooks.block(l, h)));
            runs.add(r);
        }
        for (PairTokens p : pairs) runs.add(Row.of(p.harmful()).reading(ReadOut.metric(metric)));
        List<RowResult> unpatched = study.sweep(runs);
        List<Row> copies = new ArrayList<>();
        List<Intervention> ran = new ArrayList<>();
        for (int h = 0; h < HOOKS.size(); h++) {
            for (int l = 0; l < n; l++) {
                for (int p = 0; p < pairs.size(); p++) {
                    Intervention.Site site = Intervention.at(Hooks.block(l, HOOKS.get(h)));
                    site = switch (positions) {
                        case ALL -> site;
                        case LAST -> site.positions(-1);
                        case SUBJECT -> site.positions(pairs.get(p).subjectFromEnd());
                    };
                    Intervention patch = site.replaceWith(unpatched.get(p).activation(1 + h * n + l));
                    ran.add(patch);
                    copies.add(Row.of(pairs.get(p).harmful()).with(patch).reading(ReadOut.metric(metric)));
                }
            }
        }
        List<RowResult> m = study.sweep(copies);
        double[][][] patched = new double[HOOKS.size()][n][pairs.size()];
        int i = 0;
        for (int h = 0; h < HOOKS.size(); h++) for (int l = 0; l < n; l++) for (int p = 0; p < pairs.size(); p++) patched[h][l][p] = m.get(i++).metric();
        double[] base = new double[pairs.size()], source = new double[pairs.size()];
        for (int p = 0; p < pairs.size(); p++) {
            source[p] = unpatched.get(p).metric();
            base[p] = unpatched.get(pairs.size() + p).metric();
        }
        return new Result(pairs, patched, base, source, ran);
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Params params = context.parameters(Params.class);
        int n = study.nLayers();
        String positions = params.positions().name().toLowerCase();
        double threshold = params.threshold();
        Result r = compute(study, params.positions());
        List<String> xs = new ArrayList<>();
        for (int l = 0; l < n; l++) xs.add("L" + l);
        List<List<String>> rows = new ArrayList<>();
        double[][] frac = new double[HOOKS.size()][n];
        Provenance provenance = Provenance.builder().read(HOOKS.stream().map(Hooks::everyLayer).toList()).ran(r.interventions()).build();
        Figure.Builder fig = Figure.bar("single-block-patching").title("Noising single blocks (" + positions + " positions)")
                .x("layer", xs).y("fraction of metric recovered", "fraction").referenceLine(Math.round(threshold * 100) + "%", threshold)
                .caption(String.format("Run harmful prompts (base run), patch in the harmless twin's (source run) blocks.L.<hook> at %s positions. "
                        + "Fraction = (patched - base) / (source - base), base = harmful metric (mean %s), source = harmless (mean %s), over %d pairs. "
                        + "hook_resid_pre is shown for comparison with patching the residual stream.", positions, Stats.fmt(Stats.mean(r.base())),
                        Stats.fmt(Stats.mean(r.source())), r.pairs().size()))
                .provenance(provenance);
        for (int h = 0; h < HOOKS.size(); h++) {
            for (int l = 0; l < n; l++) frac[h][l] = r.fraction(h, l);
            fig.series(HOOKS.get(h), frac[h]);
        }
        for (int l = 0; l < n; l++) rows.add(List.of("L" + l, Stats.fmt(frac[0][l]), Stats.fmt(frac[1][l]), Stats.fmt(frac[2][l])));
        Table table = Table.of("single-block-patching-table").title("Single-block noising: fraction recovered")
                .columns("layer", "attention", "MLP", "resid_pre").rows(rows).provenance(provenance).build();

        double maxAttn = max(frac[0]), maxMlp = max(frac[1]), maxResid = max(frac[2]);
        List<Finding> findings = List.of(
                new Finding("Patching individual transformer blocks has very little effect compared to patching the residual stream.",
                        String.format("largest single-block fraction %s (attention %s, MLP %s) vs %s for hook_resid_pre", Stats.fmt(Math.max(maxAttn, maxMlp)),
                                Stats.fmt(maxAttn), Stats.fmt(maxMlp), Stats.fmt(maxResid)),
                        Verdicts.of(Math.max(maxAttn, maxMlp) < threshold && maxResid >= threshold, Math.max(maxAttn, maxMlp) < maxResid)),
                new Finding("The effect of single blocks is particularly small for attention blocks.",
                        String.format("largest attention fraction %s vs MLP %s", Stats.fmt(maxAttn), Stats.fmt(maxMlp)),
                        Verdicts.of(maxAttn < maxMlp, false)));
        return new AnalysisResult("Noising patching of every single attention and MLP block output.", List.of(fig.build()), List.of(table), findings);
    }

    private static double max(double[] xs) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : xs) m = Math.max(m, x);
        return m;
    }
}
