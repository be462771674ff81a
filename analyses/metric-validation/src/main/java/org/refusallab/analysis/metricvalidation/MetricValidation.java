package org.refusallab.analysis.metricvalidation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Table;
import org.refusallab.study.Generations.Completion;
import org.refusallab.study.RefusalDirection;
import org.refusallab.study.RefusalMetric;
import org.refusallab.study.Stats;
import org.refusallab.study.Study;
import org.refusallab.study.Verdicts;

/**
 * The seed's "Refusal Metric" section: the logit metric for baseline / intervened x harmful / harmless prompts, and
 * how well it agrees with the generation-based refusal score of the same prompts and models (AUROC and
 * point-biserial correlation over every (prompt, model) completion).
 */
@Component(service = Analysis.class)
public final class MetricValidation implements Analysis {

    public static final String ID = "metric-validation";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String title() {
        return "The logit refusal metric and the refusal score";
    }

    @Override
    public int order() {
        return 20;
    }

    @Override
    public Map<String, String> parameters() {
        Map<String, String> p = new LinkedHashMap<>();
        for (String k : List.of("study.metric", "study.refusalToken", "study.pairs", "study.heldOutPairs", "study.heldOutLimit",
                "study.eval.harmful", "study.eval.harmless", "study.eval.limit")) p.put(k, Study.STUDY_DEFAULTS.get(k));
        return p;
    }

    /** Metric of each completion's prompt for baseline and intervened models. */
    public record Values(List<Completion> completions, double[] baseline, double[] intervened) { }

    public static Values compute(Study study) {
        RefusalDirection dir = study.direction();
        List<Completion> cs = study.generations();
        List<int[]> tokens = study.chat(cs.stream().map(Completion::instruction).toList());
        RefusalMetric metric = study.metric();
        double[][] m = study.batches().metricBaselineAndAblated(tokens, dir.values(), metric);
        return new Values(cs, m[0], m[1]);
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = Study.of(context, ID);
        Values v = compute(study);
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
                    c.baselineRefusal() ? "1" : "0", Stats.fmt(v.intervened()[i]), c.intervenedRefusal() ? "1" : "0"));
        }
        for (int i = 0; i < 4; i++) mean[i] /= count[i];
        double auroc = Stats.auroc(scores, refused);
        double rpb = Stats.pointBiserial(scores, refused);

        List<String> conditions = List.of("harmful / baseline", "harmful / intervened", "harmless / baseline", "harmless / intervened");
        Figure fig = new Figure("refusal-metric", "Refusal metric by instruction kind and model", Figure.Kind.BAR,
                "instructions / model", "refusal metric", "logit units", conditions, null,
                List.of(Figure.Series.of("mean over prompts", mean)), null,
                "Metric: " + study.metric() + " at the last position (mean over " + count[0] + " harmful and " + count[2]
                + " harmless prompts). Intervened: the refusal direction ablated at every layer and position.");
        Table table = new Table("metric-per-prompt", "Refusal metric and refusal score per prompt",
                List.of("set", "kind", "instruction", "baseline metric", "baseline refusal", "intervened metric", "intervened refusal"), rows,
                "Refusal: the substring score of the greedy completion of the same model.");
        Table agreement = new Table("metric-agreement", "Agreement of the metric with the generation-based refusal score",
                List.of("samples", "refusals", "AUROC", "point-biserial r"),
                List.of(List.of(Integer.toString(2 * n), Integer.toString(count(refused)), Stats.fmt(auroc), Stats.fmt(rpb))),
                "Samples: every (prompt, baseline or intervened) completion. AUROC: probability that a refusing completion's prompt has a "
                + "higher metric than a non-refusing one (ties 1/2). n/a when all samples have the same refusal flag.");

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
