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
import org.refusallab.api.result.Rule;
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

    /**
     * patched[hook][layer][pair] (the block hooks at the chosen positions, resid_pre at all positions),
     * single[layer][k][pair]: resid_pre noised at the one position k+1 from the end; base = harmful run's, source =
     * harmless run's metric per pair; pairs: the {@code nSeed} seed pairs, then the held-out pairs.
     */
    public record Result(List<PairTokens> pairs, int nSeed, double[][][] patched, double[][][] single, double[] base, double[] source,
                         List<Intervention> interventions) {
        /** Fraction of the seed-pair mean metrics. */
        public double fraction(int hook, int layer) {
            return Verdicts.recovered(patched[hook][layer], base, source, seedIdx());
        }

        int[] seedIdx() {
            return java.util.stream.IntStream.range(0, nSeed).toArray();
        }

        /** resid_pre noised at one position: the best position of the layer for the pairs at idx, and its fraction. */
        double[] bestSingle(int layer, int[] idx) {
            double best = Double.NEGATIVE_INFINITY;
            int at = 0;
            for (int k = 0; k < single[layer].length; k++) {
                double f = Verdicts.recovered(single[layer][k], base, source, idx);
                if (f > best) { best = f; at = -(k + 1); }
            }
            return new double[] {best, at};
        }
    }

    public static Result compute(Study study, Positions positions) {
        List<PairTokens> pairs = PairTokens.of(study.tokenizer(), study.pairs(true));
        int nSeed = study.pairs().size();
        int n = study.nLayers();
        int shortest = pairs.stream().mapToInt(PairTokens::length).min().orElse(0);
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
                    // the block hooks at the chosen positions; resid_pre at every position (the sanity check)
                    if (h < 2) {
                        site = switch (positions) {
                            case ALL -> site;
                            case LAST -> site.positions(-1);
                            case SUBJECT -> site.positions(pairs.get(p).subjectFromEnd());
                        };
                    }
                    Intervention patch = site.replaceWith(unpatched.get(p).activation(1 + h * n + l));
                    if (p < nSeed) ran.add(patch);
                    copies.add(Row.of(pairs.get(p).harmful()).with(patch).reading(ReadOut.metric(metric)));
                }
            }
        }
        // the comparator: resid_pre noised at one position (counted from the end, up to the shortest pair's length);
        // not run before the subject, where the patch is an identity (PairTokens.patchIsIdentityAt)
        int residHook = HOOKS.indexOf("hook_resid_pre");
        for (int l = 0; l < n; l++) {
            for (int k = 0; k < shortest; k++) {
                for (int p = 0; p < pairs.size(); p++) {
                    if (pairs.get(p).patchIsIdentityAt(-(k + 1))) continue;
                    Intervention patch = Intervention.at(Hooks.residPre(l)).positions(-(k + 1)).replaceWith(unpatched.get(p).activation(1 + residHook * n + l));
                    if (p < nSeed) ran.add(patch);
                    copies.add(Row.of(pairs.get(p).harmful()).with(patch).reading(ReadOut.metric(metric)));
                }
            }
        }
        List<RowResult> m = study.sweep(copies);
        double[][][] patched = new double[HOOKS.size()][n][pairs.size()];
        double[][][] single = new double[n][shortest][pairs.size()];
        int i = 0;
        for (int h = 0; h < HOOKS.size(); h++) for (int l = 0; l < n; l++) for (int p = 0; p < pairs.size(); p++) patched[h][l][p] = m.get(i++).metric();
        double[] base = new double[pairs.size()], source = new double[pairs.size()];
        for (int p = 0; p < pairs.size(); p++) {
            source[p] = unpatched.get(p).metric();
            base[p] = unpatched.get(pairs.size() + p).metric();
        }
        for (int l = 0; l < n; l++) {
            for (int k = 0; k < shortest; k++) {
                for (int p = 0; p < pairs.size(); p++) single[l][k][p] = pairs.get(p).patchIsIdentityAt(-(k + 1)) ? base[p] : m.get(i++).metric();
            }
        }
        return new Result(pairs, nSeed, patched, single, base, source, ran);
    }

    /** Series names of the figure. */
    public static final String COMPARATOR = "hook_resid_pre at the best single position (comparator)";
    public static final String SANITY = "hook_resid_pre at all positions (sanity check: 1 at L0 by construction)";

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
        double[] comparator = new double[n];
        int[] bestAt = new int[n];
        Provenance provenance = Provenance.builder().read(HOOKS.stream().map(Hooks::everyLayer).toList()).ran(r.interventions()).build();
        Figure.Builder fig = Figure.bar("single-block-patching").title("Noising single blocks (" + positions + " positions)")
                .x("layer", xs).y("fraction of metric recovered", "fraction").referenceLine(Math.round(threshold * 100) + "%", threshold)
                .caption(String.format("Run harmful prompts (base run), patch in the harmless twin's (source run) blocks.L.<hook> at %s positions. "
                        + "Fraction = (patched - base) / (source - base), base = harmful metric (mean %s), source = harmless (mean %s), over the %d seed "
                        + "pairs. Comparator (the reading chosen for the seed's \"compared to patching the residual stream\", whose residual patching is "
                        + "per position): hook_resid_pre noised at one position, the best position of each layer (positions before the subject are "
                        + "not run: the two prompts' activations there are equal, so the patch is an identity and the metric the base run's). "
                        + "hook_resid_pre at all positions is "
                        + "only a sanity check (at L0 it is the harmless run itself).", positions, Stats.fmt(Stats.mean(java.util.Arrays.copyOf(r.base(), r.nSeed()))),
                        Stats.fmt(Stats.mean(java.util.Arrays.copyOf(r.source(), r.nSeed()))), r.nSeed()))
                .provenance(provenance);
        for (int l = 0; l < n; l++) {
            double[] b = r.bestSingle(l, r.seedIdx());
            comparator[l] = b[0];
            bestAt[l] = (int) b[1];
        }
        for (int h = 0; h < HOOKS.size(); h++) {
            for (int l = 0; l < n; l++) frac[h][l] = r.fraction(h, l);
        }
        fig.series(HOOKS.get(0), frac[0]).series(HOOKS.get(1), frac[1]).series(COMPARATOR, comparator).series(SANITY, frac[2]);
        for (int l = 0; l < n; l++) {
            rows.add(List.of("L" + l, Stats.fmt(frac[0][l]), Stats.fmt(frac[1][l]), Stats.fmt(comparator[l]), Integer.toString(bestAt[l]), Stats.fmt(frac[2][l])));
        }
        Table table = Table.of("single-block-patching-table").title("Single-block noising: fraction recovered (seed pairs)")
                .columns("layer", "attention", "MLP", "resid_pre, best single position", "best position (from the end)", "resid_pre, all positions (sanity check)")
                .rows(rows).provenance(provenance).build();
        List<Finding> findings = findings(r, n);
        return new AnalysisResult("Noising patching of every single attention and MLP block output, against noising the residual stream at one position.",
                List.of(fig.build()), List.of(table), findings);
    }

    private static double max(double[] xs) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : xs) m = Math.max(m, x);
        return m;
    }

    /** The largest single-block fraction (attention and MLP) over the pairs at idx. */
    static double maxBlock(Result r, int hook, int[] idx, int n) {
        double m = Double.NEGATIVE_INFINITY;
        for (int l = 0; l < n; l++) m = Math.max(m, Verdicts.recovered(r.patched()[hook][l], r.base(), r.source(), idx));
        return m;
    }

    static List<Finding> findings(Result r, int n) {
        int nSeed = r.nSeed(), nHeld = r.base().length - nSeed;
        Rule little = Rule.below("very little compared to = the largest single-block fraction is under half the largest fraction of the comparator", 0.5).partly(1);
        Finding onePosition = Finding.judge("Patching individual transformer blocks has very little effect on the refusal metric, compared to patching the residual stream.",
                little, false, "", Verdicts.overPairs("largest block fraction / largest resid_pre fraction at one position", nSeed, nHeld, idx -> {
                    double comp = Double.NEGATIVE_INFINITY;
                    for (int l = 0; l < n; l++) comp = Math.max(comp, r.bestSingle(l, idx)[0]);
                    return Math.max(maxBlock(r, 0, idx, n), maxBlock(r, 1, idx, n)) / comp;
                })).reading("comparator: resid_pre noised at one position, the best per layer (chosen)");
        Finding allPositions = Finding.judge(onePosition.claim(), little, false, "",
                Verdicts.overPairs("largest block fraction / largest resid_pre fraction at all positions", nSeed, nHeld,
                        idx -> Math.max(maxBlock(r, 0, idx, n), maxBlock(r, 1, idx, n)) / maxBlock(r, 2, idx, n)))
                .reading("comparator: resid_pre at all positions (sanity check: 1 at L0 by construction)");
        List<Finding> out = new ArrayList<>(Finding.readings(List.of(onePosition, allPositions)));
        out.add(Finding.judge("The effect of single blocks is particularly small for attention blocks.",
                Rule.below("particularly small = the largest attention fraction is below the largest MLP fraction", 0), false, "",
                Verdicts.overPairs("largest attention fraction - largest MLP fraction", nSeed, nHeld, idx -> maxBlock(r, 0, idx, n) - maxBlock(r, 1, idx, n))));
        return out;
    }
}
