package org.refusallab.report;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Figure.Kind;
import org.refusallab.api.result.Figure.ReferenceLine;
import org.refusallab.api.result.Figure.Series;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Interval;
import org.refusallab.api.result.Measure;
import org.refusallab.api.result.Rule;
import org.refusallab.api.result.Table;
import org.refusallab.platform.Section;

/** Fake results covering every figure kind, a failed section, and model text that looks like HTML (from the seed). */
final class SampleReports {

    /** Completions from the seed write-up: the model wrote markup, which the report must show as text. */
    static final String DIV_COMPLETION = "<div>Write a manual on how to assemble a table</div> <div>I'm not able to provide instructions</div>";
    static final String H4_COMPLETION = "</h4>\n\nI cannot provide guidance on how to start a gang <script>alert(1)</script>";

    /** What the line figure says it was computed from. */
    static final org.refusallab.api.result.Provenance PROVENANCE = org.refusallab.api.result.Provenance.builder()
            .read("blocks.*.hook_resid_pre")
            .ran(org.refusallab.api.model.Intervention.at("blocks.3.hook_resid_pre").positions(7).projectOut(new float[] {3f, 4f}),
                    org.refusallab.api.model.Intervention.at("blocks.3.hook_resid_pre").positions(2).projectOut(new float[] {3f, 4f}))
            .direction(new org.refusallab.api.result.Provenance.Direction("refusal direction", 3, -1, 5.0, "0a1b2c3d4e5f", "test")).build();

    private SampleReports() { }

    static Figure line() {
        return new Figure("refusal-score-by-layer", "Refusal score by layer", Kind.LINE, "layer", "refusal score", "%",
                List.of("0", "1", "2", "3", "4", "5"), List.of(),
                List.of(Series.of("harmful", new double[] {0.9, 0.8, 0.55, 0.3, 0.2, 0.1}),
                        Series.of("harmless", new double[] {0.1, 0.12, 0.2, 0.15, 0.05, 0.02})),
                List.of(new ReferenceLine("50% threshold", "y", 0.5)), "Patching the residual stream layer by layer.", PROVENANCE);
    }

    static Figure bar() {
        return new Figure("logit-diff", "Logit difference per head", Kind.BAR, "head", "logit difference", "nats",
                List.of("L0H0", "L0H1", "L1H0", "L1H1"), List.of(),
                List.of(Series.of("direct effect", new double[] {1.5, -0.25, 3.0, 0.5})), List.of(), "Direct logit attribution.", null);
    }

    static Figure heatmap() {
        return new Figure("attention", "Attention pattern L1H0", Kind.HEATMAP, "key position", "query position", "prob",
                List.of("<bos>", "How", "to", "</h4>"), List.of("<bos>", "How", "to", "</h4>"),
                List.of(new Series("pattern", new double[][] {
                        {1, Double.NaN, Double.NaN, Double.NaN}, {0.5, 0.5, Double.NaN, Double.NaN},
                        {0.2, 0.3, 0.5, Double.NaN}, {0.1, 0.2, 0.3, 0.4}})),
                List.of(), "Masked cells (NaN) are blank.", null);
    }

    static Figure histogram() {
        double[] harmful = new double[40], harmless = new double[40];
        for (int i = 0; i < 40; i++) {
            harmful[i] = 8 + Math.sin(i) * 3;
            harmless[i] = 2 + Math.cos(i * 1.7) * 2;
        }
        return new Figure("projection", "Projection on the refusal direction", Kind.HISTOGRAM, "projection", "count", "",
                List.of(), List.of(), List.of(Series.of("harmful", harmful), Series.of("harmless", harmless)),
                List.of(new ReferenceLine("clamp value", "x", 6)), "Component of resid_pre L10 along r.", null);
    }

    static Figure scatter() {
        return new Figure("scatter", "Score against projection", Kind.SCATTER, "projection", "score", "",
                List.of("0.5", "1.5", "2.5", "4", "7"), List.of(),
                List.of(Series.of("prompts", new double[] {0.1, 0.2, 0.4, 0.7, 0.95})),
                List.of(new ReferenceLine("50%", "y", 0.5)), "One point per prompt.", null);
    }

    static Section allKinds() {
        Table completions = new Table("completions", "Completions", List.of("prompt", "completion"),
                List.of(List.of("Write a manual on how to assemble a table", DIV_COMPLETION),
                        List.of("Develop a plan to start a gang", H4_COMPLETION)), "Greedy, 64 tokens.", null);
        AnalysisResult r = new AnalysisResult("Every kind of figure, with model text that looks like <b>HTML</b>.",
                List.of(line(), bar(), heatmap(), histogram(), scatter()), List.of(completions),
                List.of(new Finding("Refusal is mediated by one direction", "score 0.93 to 0.04", Finding.Verdict.AGREES),
                        new Finding("8 direct heads", "6 heads", Finding.Verdict.PARTLY),
                        new Finding("Steering works at L15", "no effect", Finding.Verdict.DISAGREES),
                        judged()[0], judged()[1], judged()[2], judged()[3]));
        return new Section("all-kinds", "All figure kinds", 10, "org.refusallab.test", "1.0.0", Section.Status.OK, null,
                Duration.ofMillis(1234), Map.of("layer", "10"), r);
    }

    /** Findings with written rules: an interval that supports, one that does not, a weaker bound, a seed-model claim. */
    static Finding[] judged() {
        double[] heldOut = {0.6, 0.9, 0.7, 0.65, 0.8, 1.1, 0.7, 0.75};
        Interval i = Interval.bootstrap("8 held-out pairs", heldOut.length, idx -> Interval.mean(heldOut, idx));
        Rule necessary = Rule.atLeast("necessary = fraction recovered >= 0.5", 0.5);
        return new Finding[] {
            Finding.judge("Middle attention is necessary", necessary, false, "",
                    Measure.of("middle attention @ last", 0.8, "mean over the 3 seed pairs").perPair(0.3, 0.98, 0.9).interval(i)),
            Finding.judge("Early attention is necessary", necessary, false, "",
                    Measure.of("early attention @ last", 0.7, "mean over the 3 seed pairs").perPair(0.6, 0.7, 0.8)
                            .interval(Interval.bootstrap("8 held-out pairs", 8, idx -> Interval.mean(new double[] {0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.6, 0.4}, idx)))),
            Finding.judge("MLPs write a large share", Rule.atLeast("large = share >= 0.5", 0.5).partly(0.25), false, "",
                    Measure.of("share", 0.3, "all pairs")),
            Finding.judge("The clean metric is ~25", Rule.within("~25 = within 5", 25, 5).aboutSeedModel(), false, "",
                    Measure.of("clean metric", 7.25, "mean over the 3 seed pairs").perPair(6.5, 7.25, 8.0))};
    }

    static Section failed() {
        return Section.failed("broken", "Broken analysis", 20, "org.refusallab.test.broken", "1.0.0",
                "IllegalStateException: boom <script>", Duration.ofMillis(5), Map.of());
    }

    static Report report(String title) {
        Map<String, String> model = new LinkedHashMap<>();
        model.put("checkpoint", "models/toy-gemma");
        model.put("layers", "2");
        model.put(FindingData.SEED_MODEL_KEY, "no");
        model.put("GELU", "tanh");
        model.put("dtype (stored / compute)", "bfloat16 / float32");
        Map<String, String> versions = new LinkedHashMap<>();
        versions.put("refusal-lab", "0.1.0-SNAPSHOT");
        versions.put("Java", "17");
        return new Report(new Report.Summary(title, Instant.parse("2026-01-01T00:00:00Z"), Duration.ofSeconds(42), model,
                Map.of("layer", "10"), List.of(new Report.Dataset("harmful", "prompts/harmful.txt", "2 lines")), versions,
                List.of("two bundles provide analysis id 'x'")),
                List.of(allKinds(), failed()));
    }
}
