package org.refusallab.analysis.singleblockpatching;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Table;
import org.refusallab.study.Batches;
import org.refusallab.study.Interventions;
import org.refusallab.study.PairTokens;
import org.refusallab.study.Patching;
import org.refusallab.study.RefusalMetric;
import org.refusallab.study.Stats;
import org.refusallab.study.Study;
import org.refusallab.study.Verdicts;

/**
 * The seed's "Activation Patching Individual Transformer Blocks" (noising): run each harmful prompt and patch in its
 * harmless twin's {@code hook_attn_out} or {@code hook_mlp_out} of one layer; for comparison the same for
 * {@code hook_resid_pre}. Fraction recovered as in block-group patching.
 */
@Component(service = Analysis.class)
public final class SingleBlockPatching implements Analysis {

    public static final String ID = "single-block-patching";
    public static final List<String> HOOKS = List.of("hook_attn_out", "hook_mlp_out", "hook_resid_pre");

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String title() {
        return "Patching single blocks (noising)";
    }

    @Override
    public int order() {
        return 70;
    }

    @Override
    public Map<String, String> parameters() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("positions", "all");
        p.put("threshold", "0.5");
        return p;
    }

    /** patched[hook][layer][pair]; clean = harmful, corrupt = harmless metrics per pair. */
    public record Result(List<PairTokens> pairs, double[][][] patched, double[] clean, double[] corrupt) {
        public double fraction(int hook, int layer) {
            return Stats.recovered(Stats.mean(patched[hook][layer]), Stats.mean(clean), Stats.mean(corrupt));
        }
    }

    /** positions: "all", "last" or "subject". */
    public static Result compute(Study study, String positions) {
        List<PairTokens> pairs = study.pairTokens();
        int n = study.nLayers();
        RefusalMetric metric = study.metric();
        Batches b = study.batches();
        List<int[]> base = pairs.stream().map(PairTokens::harmful).toList();
        List<int[]> src = pairs.stream().map(PairTokens::harmless).toList();
        // sources first, then the base prompts: one cache run gives the sources' activations and both unpatched metrics
        List<int[]> both = new ArrayList<>(src);
        both.addAll(base);
        var sources = b.cache(both, Set.of("blocks.*.hook_attn_out", "blocks.*.hook_mlp_out", "blocks.*.hook_resid_pre"), List.of());
        double[] clean = new double[pairs.size()];
        for (int p = 0; p < pairs.size(); p++) clean[p] = metric.apply(sources.lastLogits()[pairs.size() + p]);
        double[] corrupt = new double[pairs.size()];
        for (int p = 0; p < pairs.size(); p++) corrupt[p] = metric.apply(sources.lastLogits()[p]);
        List<Patching.Copy> copies = new ArrayList<>();
        for (int h = 0; h < HOOKS.size(); h++) {
            for (int l = 0; l < n; l++) {
                for (int p = 0; p < pairs.size(); p++) {
                    int[] at = switch (positions) {
                        case "all" -> null;
                        case "last" -> new int[] {-1};
                        case "subject" -> new int[] {pairs.get(p).subjectFromEnd()};
                        default -> throw new IllegalArgumentException("parameter positions of " + ID + " is '" + positions + "': use all, last or subject");
                    };
                    copies.add(new Patching.Copy(p, p, List.of(new Patching.Site("blocks." + l + "." + HOOKS.get(h), at))));
                }
            }
        }
        double[] m = Patching.run(b, base, sources, copies, metric);
        double[][][] patched = new double[HOOKS.size()][n][pairs.size()];
        int i = 0;
        for (int h = 0; h < HOOKS.size(); h++) for (int l = 0; l < n; l++) for (int p = 0; p < pairs.size(); p++) patched[h][l][p] = m[i++];
        return new Result(pairs, patched, clean, corrupt);
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = Study.of(context, ID);
        int n = study.nLayers();
        String positions = study.param("positions", "all");
        double threshold = Double.parseDouble(study.param("threshold", "0.5"));
        Result r = compute(study, positions);
        List<String> xs = new ArrayList<>();
        for (int l = 0; l < n; l++) xs.add("L" + l);
        List<Figure.Series> series = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        double[][] frac = new double[HOOKS.size()][n];
        for (int h = 0; h < HOOKS.size(); h++) {
            for (int l = 0; l < n; l++) frac[h][l] = r.fraction(h, l);
            series.add(Figure.Series.of(HOOKS.get(h), frac[h]));
        }
        for (int l = 0; l < n; l++) rows.add(List.of("L" + l, Stats.fmt(frac[0][l]), Stats.fmt(frac[1][l]), Stats.fmt(frac[2][l])));
        Figure fig = new Figure("single-block-patching", "Noising single blocks (" + positions + " positions)", Figure.Kind.BAR, "layer",
                "fraction of metric recovered", "fraction", xs, null, series,
                List.of(new Figure.ReferenceLine(Math.round(threshold * 100) + "%", "y", threshold)),
                String.format("Run harmful prompts, patch in the harmless twin's blocks.L.<hook> at %s positions. Fraction = (patched - clean) / "
                        + "(corrupt - clean), clean = harmful metric (mean %s), corrupt = harmless (mean %s), over %d pairs. hook_resid_pre is shown "
                        + "for comparison with patching the residual stream.", positions, Stats.fmt(Stats.mean(r.clean())), Stats.fmt(Stats.mean(r.corrupt())), r.pairs().size()));
        Table table = new Table("single-block-patching-table", "Single-block noising: fraction recovered", List.of("layer", "attention", "MLP", "resid_pre"), rows, null);

        double maxAttn = max(frac[0]), maxMlp = max(frac[1]), maxResid = max(frac[2]);
        List<Finding> findings = List.of(
                new Finding("Patching individual transformer blocks has very little effect compared to patching the residual stream.",
                        String.format("largest single-block fraction %s (attention %s, MLP %s) vs %s for hook_resid_pre", Stats.fmt(Math.max(maxAttn, maxMlp)),
                                Stats.fmt(maxAttn), Stats.fmt(maxMlp), Stats.fmt(maxResid)),
                        Verdicts.of(Math.max(maxAttn, maxMlp) < threshold && maxResid >= threshold, Math.max(maxAttn, maxMlp) < maxResid)),
                new Finding("The effect of single blocks is particularly small for attention blocks.",
                        String.format("largest attention fraction %s vs MLP %s", Stats.fmt(maxAttn), Stats.fmt(maxMlp)),
                        Verdicts.of(maxAttn < maxMlp, false)));
        return new AnalysisResult("Noising patching of every single attention and MLP block output.", List.of(fig), List.of(table), findings);
    }

    private static double max(double[] xs) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : xs) m = Math.max(m, x);
        return m;
    }
}
