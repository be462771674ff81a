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
import org.refusallab.api.result.Provenance;
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
     * the interventions run.
     */
    public record PairResult(PairTokens pair, double[][] patched, double base, double source) {
        /** (patched - base) / (source - base): 1 = the harmful run's metric fully restored. */
        public double recovered(int layer, int position) {
            return Stats.recovered(patched[layer][position], base, source);
        }
    }

    /** The results and every intervention the sweep ran (for the figures' provenance). */
    public record Result(List<PairResult> pairs, List<Intervention> interventions) { }

    public static Result compute(Study study) {
        List<PairTokens> pairs = study.pairTokens();
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
        // one patched copy of the base run per (pair, layer, position)
        List<Row> copies = new ArrayList<>();
        List<Intervention> ran = new ArrayList<>();
        for (int p = 0; p < pairs.size(); p++) {
            int len = pairs.get(p).length();
            for (int l = 0; l < n; l++) {
                Tensor source = unpatched.get(p).activation(1 + l);
                for (int pos = 0; pos < len; pos++) {
                    Intervention patch = Intervention.at(Hooks.residPre(l)).positions(pos).replaceWith(source);
                    ran.add(patch);
                    copies.add(Row.of(pairs.get(p).harmless()).with(patch).reading(ReadOut.metric(metric)));
                }
            }
        }
        List<RowResult> m = study.sweep(copies);
        List<PairResult> out = new ArrayList<>();
        int i = 0;
        for (int p = 0; p < pairs.size(); p++) {
            int len = pairs.get(p).length();
            double[][] grid = new double[n][len];
            for (int l = 0; l < n; l++) for (int pos = 0; pos < len; pos++) grid[l][pos] = m.get(i++).metric();
            out.add(new PairResult(pairs.get(p), grid, unpatched.get(pairs.size() + p).metric(), unpatched.get(p).metric()));
        }
        return new Result(out, ran);
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
        for (int p = 0; p < results.size(); p++) {
            PairResult r = results.get(p);
            int len = r.pair().length();
            // this pair's copies: n layers x len positions, in order
            int offset = 0;
            for (int q = 0; q < p; q++) offset += n * results.get(q).pair().length();
            List<Intervention> mine = result.interventions().subList(offset, offset + n * len);
            figs.add(Figure.heatmap("residual-patching-pair-" + p)
                    .title("Denoising hook_resid_pre: '" + r.pair().pair().harmless() + "' <- '" + r.pair().pair().harmful() + "'")
                    .x("position (token)", r.pair().positionLabels(study.tokenizer())).y("layer", "refusal metric").rows(layers)
                    .cells("refusal metric", r.patched())
                    .caption(String.format("Refusal metric (%s) of the harmless prompt (base run) with the harmful prompt's (source run) "
                            + "blocks.L.hook_resid_pre patched in at one layer and position. Unpatched: harmless %s, harmful %s.",
                            study.metric(), Stats.fmt(r.base()), Stats.fmt(r.source())))
                    .provenance(Provenance.builder().read(Hooks.everyLayer("hook_resid_pre")).ran(mine).build()).build());
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
