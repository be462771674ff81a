package org.refusallab.analysis.residualpatching;

import java.util.ArrayList;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Measure;
import org.refusallab.api.result.Rule;
import org.refusallab.api.result.Provenance;
import org.refusallab.api.study.LayerGroups;
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
 * The seed's "Activation Patching the Residual Stream" (denoising): run each harmless prompt and patch in its
 * harmful twin's {@code blocks.L.hook_resid_pre} at one layer and one position; one patched copy per
 * (layer, position), all copies of all pairs batched.
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = ResidualPatching.ID, title = "Residual stream patching (denoising)", order = 50, parameters = StudyParameters.class)
public final class ResidualPatching implements Analysis {

    public static final String ID = "residual-patching";

    private final StudyService studies;

    @Activate
    public ResidualPatching(@Reference StudyService studies) {
        this.studies = studies;
    }

    /**
     * Per pair: [layer][position] patched metric, the base run's (harmless) and the source run's (harmful) metric, and
     * the interventions run for it (positions before the subject are not run: see {@link PairTokens#patchIsIdentityAt}).
     */
    public record PairResult(PairTokens pair, double[][] patched, double base, double source, List<Intervention> ran) {
        public PairResult(PairTokens pair, double[][] patched, double base, double source) {
            this(pair, patched, base, source, List.of());
        }

        /** (patched - base) / (source - base): 1 = the harmful run's metric fully restored. */
        public double recovered(int layer, int position) {
            return Stats.recovered(patched[layer][position], base, source);
        }
    }

    /** The results: seed pairs, then held-out pairs. */
    public record Result(List<PairResult> pairs, int nSeed) { }

    public static Result compute(Study study) {
        List<PairTokens> pairs = PairTokens.of(study.tokenizer(), study.pairs(true));
        int nSeed = study.pairs().size();
        int n = study.nLayers();
        RefusalMetric metric = study.metric();
        // source runs (harmful) read their metric and every layer's resid_pre; base runs (harmless) their metric; one sweep
        List<Row> runs = new ArrayList<>();
        for (PairTokens p : pairs) {
            Row r = Row.of(p.harmful()).reading(ReadOut.metric(metric));
            for (int l = 0; l < n; l++) r = r.reading(ReadOut.activationAll(Hooks.residPre(l)));
            runs.add(r);
        }
        for (PairTokens p : pairs) runs.add(Row.of(p.harmless()).reading(ReadOut.metric(metric)));
        List<RowResult> unpatched = study.sweep(runs);
        // one patched copy of the base run per (pair, layer, position from the subject on); before the subject the
        // patch is an identity and the cell is the base run's metric (two thirds of the seed pairs' cells)
        List<Row> copies = new ArrayList<>();
        List<List<Intervention>> ran = new ArrayList<>();
        for (int p = 0; p < pairs.size(); p++) {
            PairTokens pair = pairs.get(p);
            List<Intervention> mine = new ArrayList<>();
            for (int l = 0; l < n; l++) {
                Tensor source = unpatched.get(p).activation(1 + l);
                for (int pos = 0; pos < pair.length(); pos++) {
                    if (pair.patchIsIdentityAt(pos)) continue; // the read-back below writes the base metric there
                    Intervention patch = Intervention.at(Hooks.residPre(l)).positions(pos).replaceWith(source);
                    mine.add(patch);
                    copies.add(Row.of(pair.harmless()).with(patch).reading(ReadOut.metric(metric)));
                }
            }
            ran.add(mine);
        }
        List<RowResult> m = study.sweep(copies);
        List<PairResult> out = new ArrayList<>();
        int i = 0;
        for (int p = 0; p < pairs.size(); p++) {
            PairTokens pair = pairs.get(p);
            double base = unpatched.get(pairs.size() + p).metric();
            double[][] grid = new double[n][pair.length()];
            for (int l = 0; l < n; l++) {
                for (int pos = 0; pos < pair.length(); pos++) grid[l][pos] = pair.patchIsIdentityAt(pos) ? base : m.get(i++).metric();
            }
            out.add(new PairResult(pair, grid, base, unpatched.get(p).metric(), p < nSeed ? ran.get(p) : List.of()));
        }
        return new Result(out, nSeed);
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        int n = study.nLayers();
        Result result = compute(study);
        List<PairResult> results = result.pairs();
        List<String> layers = new ArrayList<>();
        for (int l = 0; l < n; l++) layers.add("L" + l);
        List<Figure> figs = new ArrayList<>();
        for (int p = 0; p < result.nSeed(); p++) {
            PairResult r = results.get(p);
            figs.add(Figure.heatmap("residual-patching-pair-" + p)
                    .title("Denoising hook_resid_pre: '" + r.pair().pair().harmless() + "' <- '" + r.pair().pair().harmful() + "'")
                    .x("position (token)", r.pair().positionLabels(study.tokenizer())).y("layer", "refusal metric").rows(layers)
                    .cells("refusal metric", r.patched())
                    .caption(String.format("Refusal metric (%s) of the harmless prompt (base run) with the harmful prompt's (source run) "
                            + "blocks.L.hook_resid_pre patched in at one layer and position. Unpatched: harmless %s, harmful %s. "
                            + "Positions before the subject are not run: both prompts' activations there are equal (same tokens, "
                            + "causal attention), so the patch changes nothing and the cell is the unpatched harmless metric.",
                            study.metric(), Stats.fmt(r.base()), Stats.fmt(r.source())))
                    .provenance(Provenance.builder().read(Hooks.everyLayer("hook_resid_pre")).ran(r.ran()).build()).build());
        }
        return new AnalysisResult("Denoising activation patching of the residual stream at every layer and position, per seed pair (figures) and "
                + (results.size() - result.nSeed()) + " held-out pairs (the findings' intervals).", figs, List.of(), findings(results, result.nSeed(), n));
    }

    /**
     * Fractions recovered per layer, mean over the pairs at idx: [0] at the subject, [1] at the last position, [2] the
     * largest |fraction| at any other position of the pair.
     */
    static double[][] roles(List<PairResult> rs, int[] idx, int n) {
        double[][] out = new double[3][n];
        for (int i : idx) {
            PairResult r = rs.get(i);
            int len = r.pair().length(), subj = r.pair().subject();
            for (int l = 0; l < n; l++) {
                out[0][l] += r.recovered(l, subj) / idx.length;
                out[1][l] += r.recovered(l, len - 1) / idx.length;
                double other = 0;
                for (int pos = 0; pos < len - 1; pos++) if (pos != subj) other = Math.max(other, Math.abs(r.recovered(l, pos)));
                out[2][l] += other / idx.length;
            }
        }
        return out;
    }

    static List<Finding> findings(List<PairResult> rs, int nSeed, int n) {
        int a = LayerGroups.scaled(6, n), b = LayerGroups.scaled(12, n), nHeld = rs.size() - nSeed;
        String note = Verdicts.layerRule(n, 6, 12);
        Measure subjEarly = Verdicts.overPairs("smallest subject fraction, L0-L" + (a - 1), nSeed, nHeld, idx -> {
            double[][] f = roles(rs, idx, n);
            double m = Double.POSITIVE_INFINITY;
            for (int l = 0; l < a; l++) m = Math.min(m, f[0][l]);
            return m;
        });
        Measure elseEarly = Verdicts.overPairs("largest |fraction| at the last or any other position, L0-L" + (a - 1), nSeed, nHeld, idx -> {
            double[][] f = roles(rs, idx, n);
            double m = 0;
            for (int l = 0; l < a; l++) m = Math.max(m, Math.max(Math.abs(f[1][l]), f[2][l]));
            return m;
        });
        Measure lastLate = Verdicts.overPairs("smallest last-position fraction, L" + b + "-L" + (n - 1), nSeed, nHeld, idx -> {
            double[][] f = roles(rs, idx, n);
            double m = Double.POSITIVE_INFINITY;
            for (int l = b; l < n; l++) m = Math.min(m, f[1][l]);
            return m;
        });
        Measure elseLate = Verdicts.overPairs("largest |fraction| at the subject or any other position, L" + b + "-L" + (n - 1), nSeed, nHeld, idx -> {
            double[][] f = roles(rs, idx, n);
            double m = 0;
            for (int l = b; l < n; l++) m = Math.max(m, Math.max(Math.abs(f[0][l]), f[2][l]));
            return m;
        });
        int to = Math.max(a, b - 1);
        Measure subjDrop = Verdicts.overPairs("subject fraction L" + a + " minus L" + to, nSeed, nHeld, idx -> {
            double[][] f = roles(rs, idx, n);
            return f[0][a] - f[0][to];
        });
        Measure lastRise = Verdicts.overPairs("last-position fraction L" + to + " minus L" + a, nSeed, nHeld, idx -> {
            double[][] f = roles(rs, idx, n);
            return f[1][to] - f[1][a];
        });
        Rule full = Rule.atLeast("full = at least 0.8 of the harmful - harmless metric difference recovered at every layer of the range", 0.8).partly(0.5);
        Rule only = Rule.below("no effect elsewhere = every other position recovers under 0.1 of the difference", 0.1).partly(0.2);
        return List.of(
                Finding.judge("Up to around L6, patching the subject position recovers the full refusal metric on the harmful prompt.", full, false, note, subjEarly),
                Finding.judge("Up to around L6, only patching the subject token position has any effect at all.", only, false, note, elseEarly),
                Finding.judge("After L12, patching the final token position recovers the full refusal metric on the harmful prompt.", full, false, note, lastLate),
                Finding.judge("After L12, only patching the final token position has any effect at all.", only, false, note, elseLate),
                Finding.judge("Between L6 and L12 the effect is concentrated at the subject position initially, then shifts to the last position.",
                        Rule.atLeast("shifts = the subject's fraction falls and the last position's rises by at least 0.1 from the first to the last middle layer", 0.1),
                        false, note, subjDrop, lastRise));
    }
}
