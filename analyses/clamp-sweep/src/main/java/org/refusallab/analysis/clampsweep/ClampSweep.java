package org.refusallab.analysis.clampsweep;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.commons.math3.stat.regression.SimpleRegression;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Describe;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Measure;
import org.refusallab.api.result.Provenance;
import org.refusallab.api.result.Rule;
import org.refusallab.api.result.Table;
import org.refusallab.api.study.Completion;
import org.refusallab.api.study.LayerGroups;
import org.refusallab.api.study.PromptPair;
import org.refusallab.api.study.Stats;
import org.refusallab.api.study.Study;
import org.refusallab.api.study.StudyParameters;
import org.refusallab.api.study.StudyService;
import org.refusallab.api.study.Verdicts;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;

/**
 * The seed's "The Refusal Metric Increases Smoothly with the Refusal Direction": the component of the residual along
 * the unit refusal direction at {@code blocks.10.hook_resid_pre} (scaled to the model's depth), last position, clamped
 * to a range of values (the seed's 0..12, scaled to this model's observed components), on harmful and harmless
 * prompts: the metric against the clamp value with a linear fit, and greedy generations at several values with the
 * refusal rate and the value where refusals start. Every (prompt, value) is a row of one sweep. No {@code assumes}: the clamp
 * edits hook_resid_pre and the metric is the model's own output, so no linearity is relied on.
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = ClampSweep.ID, title = "Clamping the refusal component", order = 105,
        parameters = {ClampSweep.Params.class, StudyParameters.class})
public final class ClampSweep implements Analysis {

    public static final String ID = "clamp-sweep";

    /** The seed's clamp range 0..12, with its harmful prompts' component at ~11 and harmless at ~4. */
    static final double SEED_MAX = 12, SEED_HARMFUL = 11, SEED_HARMLESS = 4, SEED_START = 6;

    @interface Params {
        @Describe("layer whose hook_resid_pre is clamped; -1 = the seed's L10 of 18 layers, scaled to the model's depth")
        int layer() default -1;

        @Describe("clamp values (a|b|c or a,b,c, in units of the unit direction's component); empty = the seed's 0..12 scaled by "
                + "(observed harmful component / 11), count values")
        String values() default "";

        @Describe("number of evenly spaced clamp values when values is empty (the seed's 13: 0, 1, ..., 12)")
        int count() default 13;

        @Describe("greedy generations at every k-th clamp value (and the last); 0 = none")
        int generationEvery() default 2;

        @Describe("refusal rate at which refusals have started")
        double refusalThreshold() default 0.5;

        @Describe("greedy decoding limit of the generations; 0 = study.maxNewTokens")
        int maxNewTokens() default 0;

        @Describe("add the held-out pairs (study.heldOutPairs) to the seed's pairs")
        boolean includeHeldOut() default true;
    }

    private final StudyService studies;

    @Activate
    public ClampSweep(@Reference StudyService studies) {
        this.studies = studies;
    }

    /** The clamp at one value: the component along the unit direction at the last position set to {@code value}. */
    static Intervention clamp(int layer, float[] unit, double value) {
        return Intervention.at(Hooks.residPre(layer)).positions(-1).clamp(unit, (float) value);
    }

    /** Unclamped: each prompt's metric and component. Clamped: {@code metric[value][prompt]}. */
    record Unclamped(double[] metric, double[] component) { }

    static Unclamped unclamped(Study study, List<int[]> prompts, int layer, float[] unit) {
        List<Row> rows = new ArrayList<>();
        for (int[] t : prompts) rows.add(Row.of(t).reading(ReadOut.metric(study.metric()), ReadOut.projection(Hooks.residPre(layer), new int[] {-1}, unit)));
        List<RowResult> res = study.sweep(rows);
        double[] m = new double[prompts.size()], c = new double[prompts.size()];
        for (int i = 0; i < m.length; i++) {
            m[i] = res.get(i).metric(0);
            c[i] = res.get(i).projection(1)[0][0];
        }
        return new Unclamped(m, c);
    }

    /** Every (value, prompt) clamped, as rows of one sweep: {@code [value][prompt]}. */
    static double[][] clamped(Study study, List<int[]> prompts, int layer, float[] unit, double[] values) {
        List<Row> rows = new ArrayList<>();
        for (double v : values) for (int[] t : prompts) rows.add(Row.of(t).with(clamp(layer, unit, v)).reading(ReadOut.metric(study.metric())));
        List<RowResult> res = study.sweep(rows);
        double[][] out = new double[values.length][prompts.size()];
        for (int v = 0; v < values.length; v++) for (int i = 0; i < prompts.size(); i++) out[v][i] = res.get(v * prompts.size() + i).metric();
        return out;
    }

    /** The seed's 0..12 scaled so that its harmful component (11) lands on this model's: value_i = i * 12/(count-1) * scale. */
    static double[] scaledValues(double harmful, double harmless, int count) {
        if (count < 2) throw new IllegalArgumentException("analysis " + ID + ": parameter count = '" + count + "' is not >= 2");
        double scale = (harmful > 0 ? harmful : Math.max(Math.abs(harmful), Math.abs(harmless))) / SEED_HARMFUL;
        if (!(scale > 0)) scale = 1 / SEED_HARMFUL;
        double[] out = new double[count];
        for (int i = 0; i < count; i++) out[i] = SEED_MAX * scale * i / (count - 1);
        return out;
    }

    /** The values plus any unclamped mean component outside their range (so the axis shows where each kind sits), ascending. */
    static double[] covering(double[] values, double... observed) {
        double lo = java.util.Arrays.stream(values).min().orElse(0), hi = java.util.Arrays.stream(values).max().orElse(0);
        java.util.TreeSet<Double> out = new java.util.TreeSet<>();
        for (double v : values) out.add(v);
        for (double o : observed) if (o < lo || o > hi) out.add(o);
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static double[] parseValues(String spec) {
        String[] parts = spec.trim().split("[|,]");
        double[] out = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Double.parseDouble(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("analysis " + ID + ": parameter values = '" + spec + "' is not a list of numbers (a|b|c)");
            }
            if (!Double.isFinite(out[i])) throw new IllegalArgumentException("analysis " + ID + ": parameter values = '" + spec + "' has a value that is not finite");
        }
        if (java.util.Arrays.stream(out).distinct().count() < 2) {
            throw new IllegalArgumentException("analysis " + ID + ": parameter values = '" + spec + "' needs at least two different values (a line is fitted)");
        }
        return out;
    }

    /** Slope, intercept and R^2 of the least-squares line through (x, y). */
    record Fit(double slope, double intercept, double r2) {
        static Fit of(double[] x, double[] y) {
            SimpleRegression r = new SimpleRegression();
            for (int i = 0; i < x.length; i++) r.addData(x[i], y[i]);
            return new Fit(r.getSlope(), r.getIntercept(), r.getRSquare());
        }

        double at(double x) { return intercept + slope * x; }
    }

    /** Generations at some clamp values: {@code refusal[value][prompt]} and the texts; index -1 row: unclamped. */
    record Generated(double[] values, String[][] text, boolean[][] refusal, String[] unclampedText, boolean[] unclampedRefusal) {
        double rate(int v, boolean[] harmful, boolean kind) {
            int n = 0, k = 0;
            for (int i = 0; i < harmful.length; i++) if (harmful[i] == kind) { n++; if (refusal[v][i]) k++; }
            return n == 0 ? Double.NaN : k / (double) n;
        }

        double unclampedRate(boolean[] harmful, boolean kind) {
            int n = 0, k = 0;
            for (int i = 0; i < harmful.length; i++) if (harmful[i] == kind) { n++; if (unclampedRefusal[i]) k++; }
            return n == 0 ? Double.NaN : k / (double) n;
        }
    }

    static Generated generate(Study study, List<int[]> prompts, int layer, float[] unit, double[] values, int maxNew) {
        List<Row> rows = new ArrayList<>();
        for (int[] t : prompts) rows.add(Row.of(t).reading(ReadOut.generation(maxNew)));
        for (double v : values) for (int[] t : prompts) rows.add(Row.of(t).with(clamp(layer, unit, v)).reading(ReadOut.generation(maxNew)));
        List<RowResult> res = study.sweep(rows);
        int n = prompts.size();
        String[] ut = new String[n];
        boolean[] ur = new boolean[n];
        for (int i = 0; i < n; i++) {
            ut[i] = study.tokenizer().decode(res.get(i).generated(0), true);
            ur[i] = study.refusalScore().isRefusal(ut[i]);
        }
        String[][] text = new String[values.length][n];
        boolean[][] refusal = new boolean[values.length][n];
        for (int v = 0; v < values.length; v++) {
            for (int i = 0; i < n; i++) {
                text[v][i] = study.tokenizer().decode(res.get(n + v * n + i).generated(0), true);
                refusal[v][i] = study.refusalScore().isRefusal(text[v][i]);
            }
        }
        return new Generated(values, text, refusal, ut, ur);
    }

    /** The smallest clamp value (in ascending order) whose refusal rate reaches the threshold; NaN if none. */
    static double refusalStart(double[] values, double[] rates, double threshold) {
        double best = Double.NaN;
        for (int i = 0; i < values.length; i++) {
            if (rates[i] >= threshold && (Double.isNaN(best) || values[i] < best)) best = values[i];
        }
        return best;
    }

    static String num(double x) {
        return String.format(Locale.ROOT, "%.4g", x);
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Params p = context.parameters(Params.class);
        int n = study.nLayers();
        int layer = p.layer() < 0 ? Math.min(n - 1, LayerGroups.scaled(10, n)) : p.layer();
        if (layer >= n) throw new IllegalArgumentException("analysis " + ID + ": parameter layer = '" + p.layer() + "' is not a layer of this " + n + "-layer model");
        if (p.generationEvery() < 0) throw new IllegalArgumentException("analysis " + ID + ": parameter generationEvery = '" + p.generationEvery() + "' is not >= 0");
        if (p.maxNewTokens() < 0) throw new IllegalArgumentException("analysis " + ID + ": parameter maxNewTokens = '" + p.maxNewTokens() + "' is not >= 0");
        float[] unit = study.direction().unit();
        List<PromptPair> pairs = study.pairs(p.includeHeldOut());
        List<String> texts = new ArrayList<>();
        for (PromptPair pp : pairs) texts.add(pp.harmful());
        for (PromptPair pp : pairs) texts.add(pp.harmless());
        boolean[] harmful = new boolean[texts.size()];
        for (int i = 0; i < pairs.size(); i++) harmful[i] = true;
        List<int[]> prompts = study.chat(texts);

        Unclamped u = unclamped(study, prompts, layer, unit);
        double hComp = meanOf(u.component(), harmful, true), lComp = meanOf(u.component(), harmful, false);
        boolean scaled = p.values().isBlank();
        double[] values = scaled ? covering(scaledValues(hComp, lComp, p.count()), hComp, lComp) : parseValues(p.values());
        double[][] metric = clamped(study, prompts, layer, unit, values);
        double[] harmfulCurve = new double[values.length], harmlessCurve = new double[values.length];
        for (int v = 0; v < values.length; v++) {
            harmfulCurve[v] = meanOf(metric[v], harmful, true);
            harmlessCurve[v] = meanOf(metric[v], harmful, false);
        }
        Fit fh = Fit.of(values, harmfulCurve), fl = Fit.of(values, harmlessCurve);

        List<Double> genValues = new ArrayList<>();
        if (p.generationEvery() > 0) {
            for (int v = 0; v < values.length; v += p.generationEvery()) genValues.add(values[v]);
            if ((values.length - 1) % p.generationEvery() != 0) genValues.add(values[values.length - 1]);
        }
        int maxNew = p.maxNewTokens() == 0 ? study.parameters().maxNewTokens() : p.maxNewTokens();
        double[] gv = genValues.stream().mapToDouble(Double::doubleValue).toArray();
        Generated g = gv.length == 0 ? null : generate(study, prompts, layer, unit, gv, maxNew);

        List<Intervention> ran = new ArrayList<>();
        for (double v : values) ran.add(clamp(layer, unit, v));
        Provenance prov = Provenance.builder().read(Hooks.residPre(layer)).ran(ran).direction(study.direction().provenance()).build();
        String valuesNote = scaled ? String.format("the seed's 0..12 scaled by (observed harmful component %s / 11), plus an unclamped component outside that "
                + "range: %d values from %s to %s", Stats.fmt(hComp), values.length, Stats.fmt(values[0]), Stats.fmt(values[values.length - 1])) : "values as set: " + p.values();
        String who = pairs.size() + " harmful and " + pairs.size() + " harmless prompts";
        List<String> labels = new ArrayList<>();
        for (double v : values) labels.add(num(v));
        Figure built = Figure.scatter("metric-vs-clamp").title("Refusal metric with the refusal component clamped at blocks." + layer + ".hook_resid_pre")
                .x("clamped component (residual . r/|r| at the last position)", labels).y("refusal metric", "logit units")
                .series("harmful", harmfulCurve).series("harmless", harmlessCurve)
                .series("harmful linear fit", fit(fh, values)).series("harmless linear fit", fit(fl, values))
                .caption("Mean metric (" + study.metric() + ") over " + who + " with the component along the unit refusal direction set to each value at the last "
                        + "position of blocks." + layer + ".hook_resid_pre (" + valuesNote + "). Fits: harmful slope " + Stats.fmt(fh.slope()) + ", R^2 "
                        + Stats.fmt(fh.r2()) + "; harmless slope " + Stats.fmt(fl.slope()) + ", R^2 " + Stats.fmt(fl.r2()) + ". Dashed: the unclamped mean components.")
                .provenance(prov).build();
        List<Figure.ReferenceLine> lines = List.of(new Figure.ReferenceLine("harmful unclamped " + Stats.fmt(hComp), "x", hComp),
                new Figure.ReferenceLine("harmless unclamped " + Stats.fmt(lComp), "x", lComp));
        Figure scatter = new Figure(built.id(), built.title(), built.kind(), built.xTitle(), built.yTitle(), built.unit(), built.xLabels(), built.yLabels(),
                built.series(), lines, built.caption(), built.provenance());
        List<Figure> figs = new ArrayList<>(List.of(scatter));

        List<Table> tables = new ArrayList<>();
        Table.Builder t = Table.of("clamp-table").title("Metric per clamp value").columns("clamp value", "harmful metric (mean)", "harmless metric (mean)",
                "harmful fit", "harmless fit", "harmful - harmless");
        for (int v = 0; v < values.length; v++) {
            t.row(num(values[v]), Stats.fmt(harmfulCurve[v]), Stats.fmt(harmlessCurve[v]), Stats.fmt(fh.at(values[v])), Stats.fmt(fl.at(values[v])),
                    Stats.fmt(harmfulCurve[v] - harmlessCurve[v]));
        }
        tables.add(t.caption("Means over " + who + ".").provenance(prov).build());
        tables.add(Table.of("clamp-fit").title("Linear fits and the unclamped runs").columns("prompts", "slope", "intercept", "R^2", "unclamped component (mean)",
                        "unclamped metric (mean)")
                .row("harmful", Stats.fmt(fh.slope()), Stats.fmt(fh.intercept()), Stats.fmt(fh.r2()), Stats.fmt(hComp), Stats.fmt(meanOf(u.metric(), harmful, true)))
                .row("harmless", Stats.fmt(fl.slope()), Stats.fmt(fl.intercept()), Stats.fmt(fl.r2()), Stats.fmt(lComp), Stats.fmt(meanOf(u.metric(), harmful, false)))
                .caption("Least squares (commons-math3 SimpleRegression) of the mean metric on the clamp value.").provenance(prov).build());

        double startHarmless = Double.NaN, startHarmful = Double.NaN;
        if (g != null) {
            double[] rh = new double[gv.length], rl = new double[gv.length];
            List<String> gl = new ArrayList<>();
            for (int v = 0; v < gv.length; v++) {
                rh[v] = g.rate(v, harmful, true);
                rl[v] = g.rate(v, harmful, false);
                gl.add(num(gv[v]));
            }
            startHarmless = refusalStart(gv, rl, p.refusalThreshold());
            startHarmful = refusalStart(gv, rh, p.refusalThreshold());
            figs.add(Figure.line("refusal-rate-vs-clamp").title("Refusal rate of greedy generations with the component clamped").x("clamp value", gl)
                    .y("refusal rate", "fraction").series("harmful", rh).series("harmless", rl).referenceLine("threshold " + Stats.fmt(p.refusalThreshold()), p.refusalThreshold())
                    .caption("Greedy decoding (" + maxNew + " new tokens at most) with the clamp at the prompt's last position (generated positions are not clamped); "
                            + "refusal = one of the seed's Appendix A substrings. Unclamped: harmful " + Stats.fmt(g.unclampedRate(harmful, true)) + ", harmless "
                            + Stats.fmt(g.unclampedRate(harmful, false)) + ". Refusals start (rate >= threshold) at " + text(startHarmless) + " (harmless), "
                            + text(startHarmful) + " (harmful).")
                    .provenance(prov).build());
            Table.Builder gt = Table.of("clamp-generations").title("Greedy generations per clamp value").columns("clamp value", "kind", "instruction", "completion", "refusal");
            for (int i = 0; i < texts.size(); i++) gt.row("unclamped", harmful[i] ? "harmful" : "harmless", texts.get(i), g.unclampedText()[i], Completion.flag(g.unclampedRefusal()[i]));
            for (int v = 0; v < gv.length; v++) {
                for (int i = 0; i < texts.size(); i++) gt.row(num(gv[v]), harmful[i] ? "harmful" : "harmless", texts.get(i), g.text()[v][i], Completion.flag(g.refusal()[v][i]));
            }
            tables.add(gt.caption("Clamped at the last prompt position of blocks." + layer + ".hook_resid_pre.").provenance(prov).build());
        }
        String summary = "Refusal component clamped at blocks." + layer + ".hook_resid_pre, last position, to " + values.length + " values (" + valuesNote + "), "
                + who + (g == null ? "; no generations (generationEvery = 0)." : "; generations at " + gv.length + " values.") + Verdicts.layerNote(n);
        return new AnalysisResult(summary, figs, tables, findings(values, metric, study.pairs().size(), startHarmless, startHarmful, lComp, hComp, g != null, n, layer,
                Verdicts.isSeedModel(study.model().info())));
    }

    private static double[] fit(Fit f, double[] xs) {
        double[] out = new double[xs.length];
        for (int i = 0; i < xs.length; i++) out[i] = f.at(xs[i]);
        return out;
    }

    static double meanOf(double[] xs, boolean[] harmful, boolean kind) {
        double s = 0;
        int n = 0;
        for (int i = 0; i < xs.length; i++) if (harmful[i] == kind) { s += xs[i]; n++; }
        return n == 0 ? Double.NaN : s / n;
    }

    static String text(double x) {
        return Double.isNaN(x) ? "none" : num(x);
    }

    // ---- findings: each claim's rule is a first-class Rule applied to Measures over the pairs (seed pairs' value and
    // range, bootstrap interval over the held-out pairs)

    static final Rule LINEAR = Rule.atLeast("smooth and linear = the smaller of the two curves' signed R^2 (sign of the slope x R^2 of the linear fit) "
            + ">= 0.9, i.e. both slopes > 0 and both R^2 >= 0.9; PARTLY when it is > 0 (both slopes > 0)", 0.9).partly(Double.MIN_VALUE);

    static final Rule GAP = Rule.atLeast("a difference = |mean over clamp values of (harmful - harmless metric)| / (range of both curves) >= 0.10 "
            + "(PARTLY >= 0.03); NOT_APPLICABLE when the curves are flat", 0.1).partly(0.03);

    /** (0, 1]: 1e-9 above 0 excludes the harmless component itself and keeps the harmful one inside at floating-point precision. */
    static final Rule START = Rule.within("around ~6 between ~4 and ~11 = where the harmless prompts' refusals start (rate >= threshold), as a share of the way "
            + "from their unclamped component to the harmful prompts' ((start - harmless) / (harmful - harmless)), is in (0, 1] (the seed: (6 - 4) / (11 - 4) "
            + "= 0.29), i.e. within 0.5 + 1e-9 +/- 0.5; PARTLY when refusals start elsewhere; DISAGREES when no clamp value reaches the threshold (inf); "
            + "NOT_APPLICABLE when the harmful component is not above the harmless one", 0.5 + 1e-9, 0.5).partly(Double.MAX_VALUE);

    /** sign(slope) * R^2 of the least-squares line (0 for a flat curve). */
    static double signedR2(Fit f) {
        return f.slope() > 0 ? f.r2() : f.slope() < 0 ? -f.r2() : 0;
    }

    /** The measure of the linearity claim: the smaller signed R^2 of the two fits. */
    static double linearity(Fit harmful, Fit harmless) {
        return Math.min(signedR2(harmful), signedR2(harmless));
    }

    /** The measure of the gap claim: |mean gap| / range; NaN for flat curves. */
    static double relativeGap(double[] harmfulCurve, double[] harmlessCurve) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY, gap = 0;
        for (int v = 0; v < harmfulCurve.length; v++) {
            lo = Math.min(lo, Math.min(harmfulCurve[v], harmlessCurve[v]));
            hi = Math.max(hi, Math.max(harmfulCurve[v], harmlessCurve[v]));
            gap += (harmfulCurve[v] - harmlessCurve[v]) / harmfulCurve.length;
        }
        return hi - lo > 0 ? Math.abs(gap) / (hi - lo) : Double.NaN;
    }

    /** The measure of the start claim: (start - harmless) / (harmful - harmless); inf when refusals never start; NaN when harmful <= harmless. */
    static double startShare(double start, double harmless, double harmful) {
        if (!(harmful > harmless)) return Double.NaN;
        return Double.isNaN(start) ? Double.POSITIVE_INFINITY : (start - harmless) / (harmful - harmless);
    }

    /** Rule applied to values (for the rule tests). */
    static Finding.Verdict verdict(Rule rule, double value) {
        return rule.judge(List.of(Measure.of("m", value, "")), false);
    }

    /** The mean curve over the pairs at {@code idx}: harmful prompt p is column p, its harmless twin column nPairs + p. */
    static double[] curve(double[][] metric, int[] idx, int nPairs, boolean harmful) {
        double[] out = new double[metric.length];
        for (int v = 0; v < metric.length; v++) {
            double s = 0;
            for (int p : idx) s += metric[v][harmful ? p : nPairs + p];
            out[v] = s / idx.length;
        }
        return out;
    }

    static List<Finding> findings(double[] values, double[][] metric, int nSeed, double startHarmless, double startHarmful,
            double harmlessComp, double harmfulComp, boolean generated, int nLayers, int layer, boolean seedModel) {
        int np = metric[0].length / 2, nHeld = np - nSeed;
        String note = Verdicts.layerRule(nLayers, 10);
        Measure linear = Verdicts.overPairs("smaller signed R^2 of the harmful and harmless fits at L" + layer, nSeed, nHeld,
                idx -> linearity(Fit.of(values, curve(metric, idx, np, true)), Fit.of(values, curve(metric, idx, np, false))));
        int[] seed = new int[nSeed];
        for (int i = 0; i < nSeed; i++) seed[i] = i;
        Fit fh = Fit.of(values, curve(metric, seed, np, true)), fl = Fit.of(values, curve(metric, seed, np, false));
        String fits = String.format("Seed pairs: harmful slope %s, R^2 %s; harmless slope %s, R^2 %s.", Stats.fmt(fh.slope()), Stats.fmt(fh.r2()),
                Stats.fmt(fl.slope()), Stats.fmt(fl.r2()));
        Measure gap = Verdicts.overPairs("|mean harmful - harmless metric| / range of the curves", nSeed, nHeld,
                idx -> relativeGap(curve(metric, idx, np, true), curve(metric, idx, np, false)));
        List<Finding> out = new ArrayList<>();
        out.add(Finding.judge("Clamping the refusal component at L10 resid_pre, the refusal metric increases smoothly and linearly with it.", LINEAR, seedModel,
                (note.isEmpty() ? "" : note + " ") + fits, linear));
        out.add(Finding.judge("There is an unexplained difference between the harmful and harmless curves.", GAP, seedModel,
                Double.isNaN(gap.value()) ? "Not applicable: the curves are flat." : "", gap));
        String claim = "Clear refusals start around a component of ~6, compared to ~4 on harmless and ~11 on harmful instructions.";
        if (!generated) {
            out.add(Finding.judge(claim, START, seedModel, "Not measured: no generations (generationEvery = 0)."));
        } else {
            double share = startShare(startHarmless, harmlessComp, harmfulComp);
            String how = String.format("Harmless prompts refuse from a clamp of %s (harmful from %s); unclamped components: harmless %s, harmful %s (means over the "
                    + "%d pairs' prompts).", text(startHarmless), text(startHarmful), Stats.fmt(harmlessComp), Stats.fmt(harmfulComp), np);
            out.add(Finding.judge(claim, START, seedModel, how + (Double.isNaN(share) ? " Not applicable: the harmful component is not above the harmless one." : ""),
                    Measure.of("harmless refusal start, share of the way from the harmless to the harmful component", share,
                            "greedy generations of the " + np + " pairs' harmless prompts")));
        }
        return out;
    }
}
