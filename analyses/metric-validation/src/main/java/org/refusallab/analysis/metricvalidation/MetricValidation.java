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

        int reduced = 0, harmfulAbove = 0, pairs = 0;
        for (int i = 0; i < n; i++) {
            if (cs.get(i).harmful() && v.intervened()[i] < v.baseline()[i]) reduced++;
        }
        // pairs come first in the generation list, each as harmful then harmless
        for (int i = 0; i + 1 < n; i += 2) {
            if (!cs.get(i).set().equals("eval") && cs.get(i).harmful() && !cs.get(i + 1).harmful()) {
                pairs++;
                if (v.baseline()[i] > v.baseline()[i + 1]) harmfulAbove++;
            }
        }
        List<Finding> findings = List.of(
                new Finding("Intervention reduces the refusal metric on the harmful instructions.",
                        String.format("mean %s -> %s; lower on %d of %d harmful prompts", Stats.fmt(mean[0]), Stats.fmt(mean[1]), reduced, count[0]),
                        Verdicts.of(reduced == count[0], mean[1] < mean[0])),
                new Finding("The baseline model's refusal metric is lower on harmless instructions than on harmful instructions.",
                        String.format("mean harmless %s vs harmful %s; harmful above its harmless twin in %d of %d pairs",
                                Stats.fmt(mean[2]), Stats.fmt(mean[0]), harmfulAbove, pairs),
                        Verdicts.of(harmfulAbove == pairs, mean[2] < mean[0])),
                new Finding("The refusal metric agrees with the generative refusal score.",
                        String.format("AUROC %s, point-biserial r %s over %d completions (%d refusals)", Stats.fmt(auroc), Stats.fmt(rpb), 2 * n, count(refused)),
                        Double.isNaN(auroc) ? Finding.Verdict.NOT_APPLICABLE : Verdicts.of(auroc >= 0.9, auroc >= 0.7)));
        String summary = "Logit refusal metric " + study.metric() + " for " + n + " prompts, baseline and intervened, beside the substring refusal score.";
        return new AnalysisResult(summary, List.of(fig), List.of(agreement, table), findings);
    }

    private static int count(boolean[] xs) {
        int c = 0;
        for (boolean x : xs) if (x) c++;
        return c;
    }
}
