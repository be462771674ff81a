package org.refusallab.analysis.diverseheadpatching;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Describe;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Measure;
import org.refusallab.api.result.Provenance;
import org.refusallab.api.result.Rule;
import org.refusallab.api.result.Table;
import org.refusallab.api.study.Completion;
import org.refusallab.api.study.HeadClassParameters;
import org.refusallab.api.study.HeadClasses;
import org.refusallab.api.study.HeadClasses.Head;
import org.refusallab.api.study.HeadClasses.Kind;
import org.refusallab.api.study.Stats;
import org.refusallab.api.study.Study;
import org.refusallab.api.study.StudyParameters;
import org.refusallab.api.study.StudyService;
import org.refusallab.api.study.Verdicts;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;

/**
 * The seed's Appendix B "Direct Heads May Be Format-Specific": the direct heads (classified on the study's pairs)
 * patched on a larger set of unpaired harmful and harmless instructions of other shapes (study.eval.harmful /
 * study.eval.harmless). The prompts have no twins, so each direct head's {@code attn.hook_result} at the last
 * position is replaced by its mean over the other set's prompts: noising runs the harmful prompts with the harmless
 * mean, denoising the harmless prompts with the harmful mean. The refusal metric and the refusal rate of greedy
 * generations, baseline vs patched. Rows of one sweep per stage (reads, metrics, generations). No {@code assumes}: the
 * patched heads' results flow through the model's own forward pass and the metric is the model's own output.
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = DiverseHeadPatching.ID, title = "Direct heads on diverse prompts (format-specific?)", order = 115,
        parameters = {DiverseHeadPatching.Params.class, HeadClassParameters.class, StudyParameters.class})
public final class DiverseHeadPatching implements Analysis {

    public static final String ID = "diverse-head-patching";

    @interface Params {
        @Describe("greedy decoding limit of the generations; 0 = study.maxNewTokens")
        int maxNewTokens() default 0;
    }

    private final StudyService studies;

    @Activate
    public DiverseHeadPatching(@Reference StudyService studies) {
        this.studies = studies;
    }


    /** One set's unpatched metrics and its mean attn.hook_result at the last position, per layer: {@code [n_heads, d_model]}. */
    record SetRun(double[] metric, Map<Integer, float[][]> meanResult) { }

    static SetRun read(Study study, List<int[]> prompts, List<Integer> layers, List<Intervention> everyRow) {
        List<Row> rows = new ArrayList<>();
        for (int[] t : prompts) {
            Row r = Row.of(t).with(everyRow).reading(ReadOut.metric(study.metric()));
            for (int l : layers) r = r.reading(ReadOut.activation(Hooks.attnResult(l), -1));
            rows.add(r);
        }
        List<RowResult> res = study.sweep(rows);
        int heads = study.model().info().nHeads(), d = study.model().info().dModel();
        double[] metric = new double[prompts.size()];
        Map<Integer, double[][]> sum = new LinkedHashMap<>();
        for (int l : layers) sum.put(l, new double[heads][d]);
        for (int i = 0; i < prompts.size(); i++) {
            metric[i] = res.get(i).metric(0);
            for (int k = 0; k < layers.size(); k++) {
                Tensor a = res.get(i).activation(1 + k);  // [1, head, d_model]
                double[][] s = sum.get(layers.get(k));
                for (int h = 0; h < heads; h++) {
                    float[] row = a.row(0, h);
                    for (int j = 0; j < d; j++) s[h][j] += row[j];
                }
            }
        }
        Map<Integer, float[][]> mean = new LinkedHashMap<>();
        sum.forEach((l, s) -> {
            float[][] m = new float[heads][d];
            for (int h = 0; h < heads; h++) for (int j = 0; j < d; j++) m[h][j] = (float) (s[h][j] / prompts.size());
            mean.put(l, m);
        });
        return new SetRun(metric, mean);
    }

    /**
     * The patch of one prompt: each layer's direct heads at the last position take the other set's mean result. A
     * sweep row's REPLACE source is shaped like the row's own activation {@code [pos, head, d_model]}; only its last
     * position is read.
     */
    static List<Intervention> patch(int length, Map<Integer, int[]> heads, Map<Integer, float[][]> mean) {
        List<Intervention> out = new ArrayList<>();
        for (var e : heads.entrySet()) {
            float[][] m = mean.get(e.getKey());
            int nHeads = m.length, d = m[0].length;
            float[] data = new float[length * nHeads * d];
            for (int h = 0; h < nHeads; h++) System.arraycopy(m[h], 0, data, ((length - 1) * nHeads + h) * d, d);
            out.add(Intervention.at(Hooks.attnResult(e.getKey())).positions(-1).heads(e.getValue()).replaceWith(new Tensor(new long[] {length, nHeads, d}, data)));
        }
        return out;
    }

    /** Per prompt of one set: metrics and completions, baseline and patched. */
    record Measured(List<String> instructions, double[] baseMetric, double[] patchedMetric, String[] baseText, boolean[] baseRefusal, String[] patchedText,
                    boolean[] patchedRefusal) {
        int n() { return instructions.size(); }

        static int count(boolean[] xs) {
            int k = 0;
            for (boolean x : xs) if (x) k++;
            return k;
        }

        double baseRate() { return count(baseRefusal) / (double) n(); }

        double patchedRate() { return count(patchedRefusal) / (double) n(); }
    }

    /**
     * Both directions: noising (harmful prompts, harmless mean) and denoising (harmless prompts, harmful mean). The
     * interventions run are added to {@code ran}; {@code everyRow} is added to every row (empty in the analysis;
     * tests build known answers with it).
     */
    static Measured[] measure(Study study, List<String> harmful, List<String> harmless, List<Head> direct, int maxNew, List<Intervention> ran,
            List<Intervention> everyRow) {
        Map<Integer, int[]> heads = HeadClasses.byLayer(direct);
        List<Integer> layers = new ArrayList<>(heads.keySet());
        List<List<String>> texts = List.of(harmful, harmless);
        List<List<int[]>> prompts = List.of(study.chat(harmful), study.chat(harmless));
        SetRun[] runs = {read(study, prompts.get(0), layers, everyRow), read(study, prompts.get(1), layers, everyRow)};
        List<Row> metricRows = new ArrayList<>(), baseGen = new ArrayList<>(), patchedGen = new ArrayList<>();
        for (int s = 0; s < 2; s++) {
            for (int[] t : prompts.get(s)) {
                List<Intervention> iv = patch(t.length, heads, runs[1 - s].meanResult());
                ran.addAll(iv);
                metricRows.add(Row.of(t).with(everyRow).with(iv).reading(ReadOut.metric(study.metric())));
                baseGen.add(Row.of(t).with(everyRow).reading(ReadOut.generation(maxNew)));
                patchedGen.add(Row.of(t).with(everyRow).with(iv).reading(ReadOut.generation(maxNew)));
            }
        }
        // unpatched and patched generations in separate sweeps: rows with REPLACE edits decode a step at a time, the others in the engine's own decoding
        List<RowResult> metrics = study.sweep(metricRows), base = study.sweep(baseGen), patchedRes = study.sweep(patchedGen);
        Measured[] out = new Measured[2];
        int i = 0;
        for (int s = 0; s < 2; s++) {
            int n = prompts.get(s).size();
            double[] pm = new double[n];
            String[] bt = new String[n], pt = new String[n];
            boolean[] br = new boolean[n], pr = new boolean[n];
            for (int k = 0; k < n; k++, i++) {
                pm[k] = metrics.get(i).metric();
                bt[k] = study.tokenizer().decode(base.get(i).generated(0), true);
                pt[k] = study.tokenizer().decode(patchedRes.get(i).generated(0), true);
                br[k] = study.refusalScore().isRefusal(bt[k]);
                pr[k] = study.refusalScore().isRefusal(pt[k]);
            }
            out[s] = new Measured(texts.get(s), runs[s].metric(), pm, bt, br, pt, pr);
        }
        return out;
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Params p = context.parameters(Params.class);
        if (p.maxNewTokens() < 0) throw new IllegalArgumentException("analysis " + ID + ": parameter maxNewTokens = '" + p.maxNewTokens() + "' is not >= 0");
        List<String> harmful = study.evalHarmful(), harmless = study.evalHarmless();
        if (harmful.isEmpty() || harmless.isEmpty()) {
            throw new IllegalArgumentException("analysis " + ID + ": needs unpaired instruction sets in study.eval.harmful and study.eval.harmless (got "
                    + harmful.size() + " and " + harmless.size() + " instructions)");
        }
        HeadClasses hc = study.headClasses();
        List<Head> direct = hc.heads(Kind.DIRECT);
        String sets = harmful.size() + " harmful and " + harmless.size() + " harmless instructions (study.eval.harmful, study.eval.harmless; first study.eval.limit = "
                + study.parameters().eval_limit() + " of each, 0 = all)";
        if (direct.isEmpty()) {
            String why = "Not measured: no direct heads at threshold " + Stats.fmt(hc.threshold()) + " in " + hc.rangeLabel();
            return new AnalysisResult("No direct heads to patch (head-classes found none at threshold " + Stats.fmt(hc.threshold()) + " in " + hc.rangeLabel() + "); "
                    + sets + " not run.", List.of(), List.of(), notApplicable(why, Verdicts.isSeedModel(study.model().info())));
        }
        int maxNew = p.maxNewTokens() == 0 ? study.parameters().maxNewTokens() : p.maxNewTokens();
        List<Intervention> ran = new ArrayList<>();
        Measured[] m = measure(study, harmful, harmless, direct, maxNew, ran, List.of());
        Measured noise = m[0], denoise = m[1];
        double noiseFraction = Stats.recovered(Stats.mean(noise.patchedMetric()), Stats.mean(noise.baseMetric()), Stats.mean(denoise.baseMetric()));
        double denoiseFraction = Stats.recovered(Stats.mean(denoise.patchedMetric()), Stats.mean(denoise.baseMetric()), Stats.mean(noise.baseMetric()));

        List<String> read = new ArrayList<>();
        for (int l : HeadClasses.byLayer(direct).keySet()) read.add(Hooks.attnResult(l));
        Provenance prov = Provenance.builder().read(read).ran(ran).build();
        String heads = String.join(" ", direct.stream().map(Head::label).toList());
        String how = "The " + direct.size() + " direct heads (" + heads + ", from head-classes on the study's pairs) have their attn.hook_result at the last "
                + "position replaced by its mean over the other set's prompts (the prompts are unpaired): noising = harmful prompts with the harmless mean, "
                + "denoising = harmless prompts with the harmful mean. " + sets + ".";
        List<String> x = List.of("harmful prompts (noising)", "harmless prompts (denoising)");
        Figure rates = Figure.bar("refusal-rates").title("Refusal rate of greedy generations, baseline vs direct heads patched").x("prompts", x)
                .y("refusal rate", "fraction").series("baseline", new double[] {noise.baseRate(), denoise.baseRate()})
                .series("direct heads patched", new double[] {noise.patchedRate(), denoise.patchedRate()})
                .caption(how + " Greedy decoding, " + maxNew + " new tokens at most (patched at the prompt's last position only); refusal = one of the seed's "
                        + "Appendix A substrings. Counts in the table.")
                .provenance(prov).build();
        Figure metric = Figure.bar("metric").title("Refusal metric, baseline vs direct heads patched").x("prompts", x).y("refusal metric (mean)", "logit units")
                .series("baseline", new double[] {Stats.mean(noise.baseMetric()), Stats.mean(denoise.baseMetric())})
                .series("direct heads patched", new double[] {Stats.mean(noise.patchedMetric()), Stats.mean(denoise.patchedMetric())})
                .series("other set's baseline", new double[] {Stats.mean(denoise.baseMetric()), Stats.mean(noise.baseMetric())})
                .caption(how + " Fraction recovered = (patched - baseline) / (other set's baseline - baseline) of the set means: noising "
                        + Stats.fmt(noiseFraction) + ", denoising " + Stats.fmt(denoiseFraction) + ".")
                .provenance(prov).build();
        Table summary = Table.of("diverse-summary").title("Baseline vs patched, with counts")
                .columns("patching", "prompts", "baseline refusals", "patched refusals", "baseline metric (mean)", "patched metric (mean)",
                        "other set's baseline metric (mean)", "fraction recovered")
                .row("noising (harmful prompts)", Integer.toString(noise.n()), Measured.count(noise.baseRefusal()) + " / " + noise.n(),
                        Measured.count(noise.patchedRefusal()) + " / " + noise.n(), Stats.fmt(Stats.mean(noise.baseMetric())), Stats.fmt(Stats.mean(noise.patchedMetric())),
                        Stats.fmt(Stats.mean(denoise.baseMetric())), Stats.fmt(noiseFraction))
                .row("denoising (harmless prompts)", Integer.toString(denoise.n()), Measured.count(denoise.baseRefusal()) + " / " + denoise.n(),
                        Measured.count(denoise.patchedRefusal()) + " / " + denoise.n(), Stats.fmt(Stats.mean(denoise.baseMetric())),
                        Stats.fmt(Stats.mean(denoise.patchedMetric())), Stats.fmt(Stats.mean(noise.baseMetric())), Stats.fmt(denoiseFraction))
                .caption(how).provenance(prov).build();
        Table.Builder perPrompt = Table.of("diverse-prompts").title("Per prompt").columns("patching", "instruction", "baseline metric", "patched metric",
                "baseline completion", "baseline refusal", "patched completion", "patched refusal");
        for (int s = 0; s < 2; s++) {
            Measured r = m[s];
            for (int k = 0; k < r.n(); k++) {
                perPrompt.row(s == 0 ? "noising" : "denoising", r.instructions().get(k), Stats.fmt(r.baseMetric()[k]), Stats.fmt(r.patchedMetric()[k]), r.baseText()[k],
                        Completion.flag(r.baseRefusal()[k]), r.patchedText()[k], Completion.flag(r.patchedRefusal()[k]));
            }
        }
        return new AnalysisResult("The direct heads patched on " + sets + ": does the refusal rate follow the metric?", List.of(rates, metric),
                List.of(summary, perPrompt.caption(how).provenance(prov).build()), findings(noise, denoise, noiseFraction, denoiseFraction,
                Verdicts.isSeedModel(study.model().info())));
    }

    // ---- findings: each claim's rule is a first-class Rule applied to Measures of the unpaired sets (no seed pairs, so
    // no per-pair values or held-out intervals)

    static final Rule METRIC_MOVES = Rule.atLeast("moves = fraction of the metric recovered (of the set means) >= 0.5 (PARTLY >= 0.2)", 0.5).partly(0.2);

    static final Rule RATE_HOLDS = Rule.atMost("holds = the refusal rate moves at most 0.10 towards the other set's (noising: baseline - patched; denoising: "
            + "patched - baseline; PARTLY <= 0.30); NOT_APPLICABLE when the baseline rate leaves no room to move (noising: 0, denoising: 1)", 0.1).partly(0.3);

    /** The shift of the refusal rate towards the other set's; NaN when the baseline leaves no room to move. */
    static double rateShift(double baselineRate, double patchedRate, boolean noising) {
        if (noising ? baselineRate == 0 : baselineRate == 1) return Double.NaN;
        return noising ? baselineRate - patchedRate : patchedRate - baselineRate;
    }

    /** Rule applied to one value (for the rule tests). */
    static Finding.Verdict verdict(Rule rule, double value) {
        return rule.judge(List.of(Measure.of("m", value, "")), false);
    }

    static final String C1 = "On diverse prompts, noising the direct heads (harmful prompts) still recovers the refusal metric.";
    static final String C2 = "... but it does not reduce the refusal rate (evaluated by generation).";
    static final String C3 = "On diverse prompts, denoising the direct heads (harmless prompts) moves the refusal metric.";
    static final String C4 = "... but it does not raise the refusal rate.";

    static List<Finding> notApplicable(String why, boolean seedModel) {
        return List.of(Finding.judge(C1, METRIC_MOVES, seedModel, why), Finding.judge(C2, RATE_HOLDS, seedModel, why),
                Finding.judge(C3, METRIC_MOVES, seedModel, why), Finding.judge(C4, RATE_HOLDS, seedModel, why));
    }

    static List<Finding> findings(Measured noise, Measured denoise, double noiseFraction, double denoiseFraction, boolean seedModel) {
        String harmful = noise.n() + " harmful", harmless = denoise.n() + " harmless";
        Measure noiseMoves = Measure.of("noising fraction recovered", noiseFraction, String.format("of the set means: %s prompts' metric %s -> %s, %s baseline %s",
                harmful, Stats.fmt(Stats.mean(noise.baseMetric())), Stats.fmt(Stats.mean(noise.patchedMetric())), harmless, Stats.fmt(Stats.mean(denoise.baseMetric()))));
        Measure denoiseMoves = Measure.of("denoising fraction recovered", denoiseFraction, String.format("of the set means: %s prompts' metric %s -> %s, %s baseline %s",
                harmless, Stats.fmt(Stats.mean(denoise.baseMetric())), Stats.fmt(Stats.mean(denoise.patchedMetric())), harmful, Stats.fmt(Stats.mean(noise.baseMetric()))));
        double noiseShift = rateShift(noise.baseRate(), noise.patchedRate(), true), denoiseShift = rateShift(denoise.baseRate(), denoise.patchedRate(), false);
        Measure noiseRate = Measure.of("drop of the refusal rate (baseline - patched)", noiseShift, String.format("refusals %d / %d baseline, %d / %d patched",
                Measured.count(noise.baseRefusal()), noise.n(), Measured.count(noise.patchedRefusal()), noise.n()));
        Measure denoiseRate = Measure.of("rise of the refusal rate (patched - baseline)", denoiseShift, String.format("refusals %d / %d baseline, %d / %d patched",
                Measured.count(denoise.baseRefusal()), denoise.n(), Measured.count(denoise.patchedRefusal()), denoise.n()));
        return List.of(
                Finding.judge(C1, METRIC_MOVES, seedModel, "", noiseMoves),
                Finding.judge(C2, RATE_HOLDS, seedModel, Double.isNaN(noiseShift) ? "Not applicable: the baseline refuses none of the harmful prompts." : "", noiseRate),
                Finding.judge(C3, METRIC_MOVES, seedModel, "", denoiseMoves),
                Finding.judge(C4, RATE_HOLDS, seedModel, Double.isNaN(denoiseShift) ? "Not applicable: the baseline refuses every harmless prompt." : "", denoiseRate));
    }
}
