package org.refusallab.analysis.metricvalidation;

import java.util.ArrayList;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Rule;
import org.refusallab.api.result.Provenance;
import org.refusallab.api.result.Table;
import org.refusallab.api.study.Ablation;
import org.refusallab.api.study.Completion;
import org.refusallab.api.study.RefusalDirection;
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
 * The seed's "Refusal Metric" section: the logit metric for baseline / intervened x harmful / harmless prompts, and
 * how well it agrees with the generation-based refusal score of the same prompts and models (AUROC and
 * point-biserial correlation over every (prompt, model) completion).
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = MetricValidation.ID, title = "The logit refusal metric and the refusal score", order = 20, parameters = StudyParameters.class)
public final class MetricValidation implements Analysis {

    public static final String ID = "metric-validation";

    private final StudyService studies;

    @Activate
    public MetricValidation(@Reference StudyService studies) {
        this.studies = studies;
    }

    /** Metric of each completion's prompt for baseline and intervened models. */
    public record Values(List<Completion> completions, double[] baseline, double[] intervened) { }

    public static Values compute(Study study) {
        RefusalDirection dir = study.direction();
        List<Completion> cs = study.generations();
        List<int[]> tokens = study.chat(cs.stream().map(Completion::instruction).toList());
        RefusalMetric metric = study.metric();
        // every prompt twice in the same sweep: as is, then with the direction ablated
        List<Intervention> ablation = Ablation.directional(study.nLayers(), dir.values());
        List<Row> rows = new ArrayList<>();
        for (int[] t : tokens) rows.add(Row.of(t).reading(ReadOut.metric(metric)));
        for (int[] t : tokens) rows.add(Row.of(t).with(ablation).reading(ReadOut.metric(metric)));
        List<RowResult> res = study.sweep(rows);
        double[] baseline = new double[tokens.size()], intervened = new double[tokens.size()];
        for (int i = 0; i < tokens.size(); i++) {
            baseline[i] = res.get(i).metric();
            intervened[i] = res.get(tokens.size() + i).metric();
        }
        return new Values(cs, baseline, intervened);
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Values v = compute(study);
        Provenance provenance = Provenance.builder().read("logits").ran(Ablation.directional(study.nLayers(), study.direction().values()))
                .direction(study.direction().provenance()).build();
        List<Completion> cs = v.completions();
        int n = cs.size();

        // condition means: harmful baseline, harmful intervened, harmless baseline, harmless intervened
        double[] mean = new double[4];
        int[] count = new int[4];
        List<List<String>> rows = new ArrayList<>();
        double[] scores = new double[2 * n];
        boolean[] refused = new boolean[2 * n];
        for (int i = 0; i < n; i++) {
            Completion c = cs.get(i);
            int o = c.harmful() ? 0 : 2;
            mean[o] += v.baseline()[i];
            mean[o + 1] += v.intervened()[i];
            count[o]++;
            count[o + 1]++;
            scores[2 * i] = v.baseline()[i];
            refused[2 * i] = c.baselineRefusal();
            scores[2 * i + 1] = v.intervened()[i];
            refused[2 * i + 1] = c.intervenedRefusal();
            rows.add(List.of(c.set(), c.harmful() ? "harmful" : "harmless", c.instruction(), Stats.fmt(v.baseline()[i]),
                    Completion.flag(c.baselineRefusal()), Stats.fmt(v.intervened()[i]), Completion.flag(c.intervenedRefusal())));
        }
        for (int i = 0; i < 4; i++) mean[i] /= count[i];
        double auroc = Stats.auroc(scores, refused);
        double rpb = Stats.pointBiserial(scores, refused);

        List<String> conditions = List.of("harmful / baseline", "harmful / intervened", "harmless / baseline", "harmless / intervened");
        Figure fig = Figure.bar("refusal-metric").title("Refusal metric by instruction kind and model")
                .x("instructions / model", conditions).y("refusal metric", "logit units").series("mean over prompts", mean)
                .caption("Metric: " + study.metric() + " at the last position (mean over " + count[0] + " harmful and " + count[2]
                        + " harmless prompts). Intervened: the refusal direction ablated at every layer and position.")
                .provenance(provenance).build();
        Table table = Table.of("metric-per-prompt").title("Refusal metric and refusal score per prompt")
                .columns("set", "kind", "instruction", "baseline metric", "baseline refusal", "intervened metric", "intervened refusal").rows(rows)
                .caption("Refusal: the substring score of the greedy completion of the same model.").provenance(provenance).build();
        Table agreement = Table.of("metric-agreement").title("Agreement of the metric with the generation-based refusal score")
                .columns("samples", "refusals", "AUROC", "point-biserial r")
                .row(Integer.toString(2 * n), Integer.toString(count(refused)), Stats.fmt(auroc), Stats.fmt(rpb))
                .caption("Samples: every (prompt, baseline or intervened) completion. AUROC: probability that a refusing completion's prompt has a "
                        + "higher metric than a non-refusing one (ties 1/2). n/a when all samples have the same refusal flag.")
                .provenance(provenance).build();

        // the harmless side of the ablation, and what "accepts" means under it
        double[] shift = new double[4]; // harmful mean shift, harmful raised count, harmless mean shift, harmless raised count
        for (int i = 0; i < n; i++) {
            int o = cs.get(i).harmful() ? 0 : 2;
            shift[o] += (v.intervened()[i] - v.baseline()[i]) / count[o];
            if (v.intervened()[i] > v.baseline()[i]) shift[o + 1]++;
        }
        Table shiftTable = Table.of("ablation-shift").title("How ablating the refusal direction moves the metric")
                .columns("instructions", "prompts", "baseline mean", "intervened mean", "mean shift", "prompts raised")
                .row("harmful", Integer.toString(count[0]), Stats.fmt(mean[0]), Stats.fmt(mean[1]), Stats.fmt(shift[0]), Integer.toString((int) shift[1]))
                .row("harmless", Integer.toString(count[2]), Stats.fmt(mean[2]), Stats.fmt(mean[3]), Stats.fmt(shift[2]), Integer.toString((int) shift[3]))
                .caption("Shift = intervened - baseline metric. A rise on harmless prompts means the ablation does more than remove refusal.")
                .provenance(provenance).build();
        Table sample = sampleTable(cs, provenance);

        int nSeed = study.pairs().size(), nHeld = study.heldOutPairs().size();
        List<Finding> findings = findings(v, nSeed, nHeld, auroc, rpb, 2 * n, count(refused));
        String summary = "Logit refusal metric " + study.metric() + " for " + n + " prompts, baseline and intervened, beside the substring refusal score. "
                + "Ablation shifts the metric by " + Stats.fmt(shift[0]) + " on harmful and " + Stats.fmt(shift[2]) + " on harmless prompts (raised on "
                + (int) shift[3] + " of " + count[2] + " harmless).";
        return new AnalysisResult(summary, List.of(fig), List.of(agreement, shiftTable, sample, table), findings);
    }

    /** Words of four or more letters, lower case, without common function words: what "on topic" compares. */
    static java.util.Set<String> contentWords(String text) {
        java.util.Set<String> stop = java.util.Set.of("about", "after", "also", "been", "could", "does", "from", "have", "here", "into", "just", "like",
                "make", "more", "most", "need", "only", "other", "over", "some", "such", "than", "that", "their", "them", "then", "there", "these",
                "they", "this", "those", "through", "very", "want", "what", "when", "where", "which", "while", "will", "with", "would", "your");
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (String w : text.toLowerCase(java.util.Locale.ROOT).split("[^a-z]+")) if (w.length() >= 4 && !stop.contains(w)) out.add(w);
        return out;
    }

    /** On topic: the completion shares at least one content word (4+ letters, not a function word) with its instruction. */
    static boolean onTopic(String instruction, String completion) {
        java.util.Set<String> shared = new java.util.TreeSet<>(contentWords(instruction));
        shared.retainAll(contentWords(completion));
        return !shared.isEmpty();
    }

    static final int SAMPLE = 12;

    /** The first harmful prompts' intervened completions with their refusal flag and the on-topic check. */
    static Table sampleTable(List<Completion> cs, Provenance provenance) {
        List<List<String>> rows = new ArrayList<>();
        int accepted = 0, acceptedOnTopic = 0, harmful = 0;
        for (Completion c : cs) {
            if (!c.harmful()) continue;
            harmful++;
            boolean on = onTopic(c.instruction(), c.intervened());
            if (!c.intervenedRefusal()) {
                accepted++;
                if (on) acceptedOnTopic++;
            }
            if (rows.size() < SAMPLE) rows.add(List.of(c.set(), c.instruction(), c.intervened(), Completion.flag(c.intervenedRefusal()), Completion.flag(on)));
        }
        return Table.of("intervened-sample").title("Intervened completions of harmful instructions (first " + rows.size() + ")")
                .columns("set", "instruction", "intervened completion", "refusal", "on topic").rows(rows)
                .caption("On topic = the completion shares at least one word of 4+ letters with the instruction (case-insensitive, common function "
                        + "words excluded): a simple check that an accepted instruction is answered, not replaced by unrelated text. Of all " + harmful
                        + " harmful instructions, " + accepted + " are accepted under ablation and " + acceptedOnTopic + " of those are on topic.")
                .provenance(provenance).build();
    }

    /** Findings with per-pair values and held-out intervals (the generations list the pairs first, harmful then harmless). */
    static List<Finding> findings(Values v, int nSeed, int nHeld, double auroc, double rpb, int samples, int refusals) {
        int pairs = nSeed + nHeld;
        double[] reduction = new double[pairs], gap = new double[pairs];
        for (int p = 0; p < pairs; p++) {
            reduction[p] = v.intervened()[2 * p] - v.baseline()[2 * p];
            gap[p] = v.baseline()[2 * p + 1] - v.baseline()[2 * p];
        }
        return List.of(
                Finding.judge("Intervention reduces the refusal metric on the harmful instructions.",
                        Rule.below("reduces = intervened - baseline metric on the harmful prompts is negative", 0), false, "",
                        Verdicts.overPairs("intervened - baseline metric, harmful", nSeed, nHeld, idx -> Verdicts.mean(reduction, idx))),
                Finding.judge("The baseline model's refusal metric is lower on harmless instructions than on harmful instructions.",
                        Rule.below("lower = harmless - harmful baseline metric of each pair is negative", 0), false, "",
                        Verdicts.overPairs("harmless - harmful baseline metric", nSeed, nHeld, idx -> Verdicts.mean(gap, idx))),
                Finding.judge("The refusal metric agrees with the generative refusal score.",
                        Rule.atLeast("agrees = AUROC of the metric for the refusal flag >= 0.9", 0.9).partly(0.7), false,
                        String.format(java.util.Locale.ROOT, "Point-biserial r %s; %d refusals among %d completions (NaN AUROC: one class only, not applicable).",
                                Stats.fmt(rpb), refusals, samples),
                        org.refusallab.api.result.Measure.of("AUROC", auroc, "every baseline and intervened completion (" + samples + ")")));
    }


    private static int count(boolean[] xs) {
        int c = 0;
        for (boolean x : xs) if (x) c++;
        return c;
    }
}
