package org.refusallab.analysis.residualpatching;

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
import org.refusallab.study.Batches;
import org.refusallab.study.Interventions;
import org.refusallab.study.PairTokens;
import org.refusallab.study.Patching;
import org.refusallab.study.RefusalMetric;
import org.refusallab.study.Stats;
import org.refusallab.study.Study;
import org.refusallab.study.Verdicts;

/**
 * The seed's "Activation Patching the Residual Stream" (denoising): run each harmless prompt and patch in its
 * harmful twin's {@code blocks.L.hook_resid_pre} at one layer and one position; one patched copy per
 * (layer, position), all copies of all pairs batched.
 */
@Component(service = Analysis.class)
public final class ResidualPatching implements Analysis {

    public static final String ID = "residual-patching";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String title() {
        return "Residual stream patching (denoising)";
    }

    @Override
    public int order() {
        return 50;
    }

    @Override
    public Map<String, String> parameters() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("study.pairs", Study.STUDY_DEFAULTS.get("study.pairs"));
        return p;
    }

    /** Per pair: [layer][position] patched metric, and the harmless (clean) and harmful (source) metrics. */
    public record PairResult(PairTokens pair, double[][] patched, double harmless, double harmful) {
        /** (patched - harmless) / (harmful - harmless): 1 = the harmful run's metric fully restored. */
        public double recovered(int layer, int position) {
            return Stats.recovered(patched[layer][position], harmless, harmful);
        }
    }

    public static List<PairResult> compute(Study study) {
        List<PairTokens> pairs = study.pairTokens();
        int n = study.nLayers();
        RefusalMetric metric = study.metric();
        Batches b = study.batches();
        List<int[]> base = pairs.stream().map(PairTokens::harmless).toList();
        List<int[]> src = pairs.stream().map(PairTokens::harmful).toList();
        // sources first, then the base prompts: one cache run gives the sources' activations and both unpatched metrics
        List<int[]> both = new ArrayList<>(src);
        both.addAll(base);
        var sources = b.cache(both, Set.of("blocks.*.hook_resid_pre"), List.of());
        double[] clean = new double[pairs.size()];
        for (int p = 0; p < pairs.size(); p++) clean[p] = metric.apply(sources.lastLogits()[pairs.size() + p]);
        List<Patching.Copy> copies = new ArrayList<>();
        for (int p = 0; p < pairs.size(); p++) {
            int len = pairs.get(p).length();
            for (int l = 0; l < n; l++) {
                for (int pos = 0; pos < len; pos++) {
                    copies.add(new Patching.Copy(p, p, List.of(new Patching.Site(Interventions.residPre(l), new int[] {pos - len}))));
                }
            }
        }
        double[] m = Patching.run(b, base, sources, copies, metric);
        List<PairResult> out = new ArrayList<>();
        int i = 0;
        for (int p = 0; p < pairs.size(); p++) {
            int len = pairs.get(p).length();
            double[][] grid = new double[n][len];
            for (int l = 0; l < n; l++) for (int pos = 0; pos < len; pos++) grid[l][pos] = m[i++];
            out.add(new PairResult(pairs.get(p), grid, clean[p], metric.apply(sources.lastLogits()[p])));
        }
        return out;
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = Study.of(context, ID);
        int n = study.nLayers();
        List<PairResult> results = compute(study);
        List<String> layers = new ArrayList<>();
        for (int l = 0; l < n; l++) layers.add("L" + l);
        List<Figure> figs = new ArrayList<>();
        for (int p = 0; p < results.size(); p++) {
            PairResult r = results.get(p);
            figs.add(new Figure("residual-patching-pair-" + p, "Denoising hook_resid_pre: '" + r.pair().pair().harmless() + "' <- '"
                    + r.pair().pair().harmful() + "'", Figure.Kind.HEATMAP, "position (token)", "layer", "refusal metric",
                    r.pair().positionLabels(study.tokenizer()), layers, List.of(new Figure.Series("refusal metric", r.patched())), null,
                    String.format("Refusal metric (%s) of the harmless prompt with the harmful prompt's blocks.L.hook_resid_pre patched in at one "
                            + "layer and position. Unpatched: harmless %s, harmful %s.", study.metric(), Stats.fmt(r.harmless()), Stats.fmt(r.harmful()))));
        }
        return new AnalysisResult("Denoising activation patching of the residual stream at every layer and position, per prompt pair.",
                figs, List.of(), findings(results, n));
    }

    /** Mean fraction recovered over pairs at the subject, the last, and (max over) other positions, per layer. */
    static double[][] roles(List<PairResult> rs, int n) {
        double[][] out = new double[3][n];
        for (PairResult r : rs) {
            int len = r.pair().length(), subj = r.pair().subject();
            for (int l = 0; l < n; l++) {
                out[0][l] += r.recovered(l, subj) / rs.size();
                out[1][l] += r.recovered(l, len - 1) / rs.size();
                double other = 0;
                for (int pos = 0; pos < len - 1; pos++) if (pos != subj) other = Math.max(other, Math.abs(r.recovered(l, pos)));
                out[2][l] = Math.max(out[2][l], other);
            }
        }
        return out;
    }

    static List<Finding> findings(List<PairResult> rs, int n) {
        double[][] f = roles(rs, n);
        int a = Math.round(n / 3f), b = Math.round(2 * n / 3f);
        String note = Verdicts.layerNote(n);
        double minSubjEarly = Double.POSITIVE_INFINITY, maxOtherEarly = 0, maxLastEarly = 0;
        for (int l = 0; l < a; l++) {
            minSubjEarly = Math.min(minSubjEarly, f[0][l]);
            maxOtherEarly = Math.max(maxOtherEarly, f[2][l]);
            maxLastEarly = Math.max(maxLastEarly, Math.abs(f[1][l]));
        }
        double minLastLate = Double.POSITIVE_INFINITY, maxSubjLate = 0, maxOtherLate = 0;
        for (int l = b; l < n; l++) {
            minLastLate = Math.min(minLastLate, f[1][l]);
            maxSubjLate = Math.max(maxSubjLate, Math.abs(f[0][l]));
            maxOtherLate = Math.max(maxOtherLate, f[2][l]);
        }
        double subjStart = f[0][a], subjEnd = f[0][Math.max(a, b - 1)], lastStart = f[1][a], lastEnd = f[1][Math.max(a, b - 1)];
        return List.of(
                new Finding("Up to around L6 only patching the subject position has an effect, and it recovers the full harmful metric" + note + ".",
                        String.format("layers L0-L%d: subject position recovers at least %s; other positions at most %s, last position at most %s (fractions of harmful - harmless)",
                                a - 1, Stats.fmt(minSubjEarly), Stats.fmt(maxOtherEarly), Stats.fmt(maxLastEarly)),
                        Verdicts.of(minSubjEarly >= 0.8 && Math.max(maxOtherEarly, maxLastEarly) < 0.1, minSubjEarly >= 0.5)),
                new Finding("After L12 only patching the final position has an effect, recovering the full harmful metric" + note + ".",
                        String.format("layers L%d-L%d: last position recovers at least %s; subject at most %s, other positions at most %s",
                                b, n - 1, Stats.fmt(minLastLate), Stats.fmt(maxSubjLate), Stats.fmt(maxOtherLate)),
                        Verdicts.of(minLastLate >= 0.8 && Math.max(maxSubjLate, maxOtherLate) < 0.1, minLastLate >= 0.5)),
                new Finding("Between L6 and L12 the effect moves from the subject position to the last position" + note + ".",
                        String.format("subject %s -> %s, last %s -> %s from L%d to L%d", Stats.fmt(subjStart), Stats.fmt(subjEnd),
                                Stats.fmt(lastStart), Stats.fmt(lastEnd), a, Math.max(a, b - 1)),
                        Verdicts.of(subjEnd < subjStart && lastEnd > lastStart, subjEnd < subjStart || lastEnd > lastStart)));
    }
}
