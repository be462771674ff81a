package org.refusallab.analysis.headpatching;

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
import org.refusallab.api.study.PairTokens;
import org.refusallab.api.study.Stats;
import org.refusallab.api.study.Study;
import org.refusallab.api.study.StudyParameters;
import org.refusallab.api.study.StudyService;
import org.refusallab.api.study.Verdicts;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;

/**
 * The seed's "Activation Patching Classes of Heads": {@code attn.hook_result} of every head of a class patched at
 * once (direct, diagonal, direct + diagonal, the other classified heads), noising (run harmful, patch from the
 * harmless twin) and denoising (the reverse); the fraction recovered per class and per pair. Then greedy
 * generations with the direct heads noised (harmful prompts) and denoised (harmless prompts). Patched copies are rows
 * of one sweep. No {@code assumes}: the patched heads' results flow through the model's own forward pass (a post-attention
 * norm included) and the metric is the model's own output, so no linearity is relied on.
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = HeadPatching.ID, title = "Patching classes of heads (noising and denoising)", order = 83,
        parameters = {HeadPatching.Params.class, HeadClassParameters.class, StudyParameters.class})
public final class HeadPatching implements Analysis {

    public static final String ID = "head-patching";

    enum Positions { ALL, LAST }

    /** Noising: base run harmful, source run harmless. Denoising: the reverse. */
    enum Direction {
        NOISING, DENOISING;

        String label() { return name().toLowerCase(); }
    }

    @interface Params {
        @Describe("positions of the heads' results that are patched: all (the seed's whole hook_result of each head) or last")
        Positions positions() default Positions.ALL;

        @Describe("add the held-out pairs (study.heldOutPairs) to the seed's pairs")
        boolean includeHeldOut() default true;

        @Describe("greedy decoding limit of the patched generations; 0 = study.maxNewTokens")
        int maxNewTokens() default 0;
    }

    private final StudyService studies;

    @Activate
    public HeadPatching(@Reference StudyService studies) {
        this.studies = studies;
    }

    /** A set of heads patched together, e.g. the direct heads. */
    record HeadSet(String name, List<Head> heads) {
        boolean isEmpty() { return heads.isEmpty(); }

        String labels() {
            return heads.isEmpty() ? "(none)" : String.join(" ", heads.stream().map(Head::label).toList());
        }
    }

    /** The seed's four sets: direct, diagonal, direct + diagonal, and every other classified head. */
    static List<HeadSet> headSets(HeadClasses hc) {
        List<Head> direct = hc.heads(Kind.DIRECT), diagonal = hc.heads(Kind.DIAGONAL), both = new ArrayList<>(direct), other = new ArrayList<>();
        both.addAll(diagonal);
        for (Head h : hc.heads()) if (!direct.contains(h) && !diagonal.contains(h)) other.add(h);
        return List.of(new HeadSet("direct", direct), new HeadSet("diagonal", diagonal), new HeadSet("direct + diagonal", both),
                new HeadSet("other middle heads", other));
    }

    /**
     * Metrics per pair: {@code base[d][p]}, {@code source[d][p]} (the unpatched runs of direction d) and
     * {@code patched[d][s][p]} (NaN for an empty set); the interventions run.
     */
    record Measured(double[][] base, double[][] source, double[][][] patched, List<Intervention> ran) {
        /** Fraction recovered of the metrics averaged over pairs (the seed's per-class number). */
        double fraction(int d, int s) {
            return Stats.recovered(Stats.mean(patched[d][s]), Stats.mean(base[d]), Stats.mean(source[d]));
        }

        double pairFraction(int d, int s, int p) {
            return Stats.recovered(patched[d][s][p], base[d][p], source[d][p]);
        }
    }


    /** The patch of one set's heads from a source run's attn.hook_result activations (by layer, every position). */
    static List<Intervention> patch(HeadSet set, Map<Integer, Tensor> sourceResults, Positions positions) {
        List<Intervention> out = new ArrayList<>();
        for (var e : HeadClasses.byLayer(set.heads()).entrySet()) {
            Intervention.Site site = Intervention.at(Hooks.attnResult(e.getKey())).heads(e.getValue());
            out.add((positions == Positions.LAST ? site.positions(-1) : site).replaceWith(sourceResults.get(e.getKey())));
        }
        return out;
    }

    /** Every head's result of each prompt (both sides of every pair), and the unpatched metrics: one sweep. */
    record Sources(List<Map<Integer, Tensor>> harmful, List<Map<Integer, Tensor>> harmless, double[] harmfulMetric, double[] harmlessMetric) {
        Map<Integer, Tensor> of(Direction d, int pair, boolean source) {
            boolean harmfulSide = (d == Direction.NOISING) != source;
            return harmfulSide ? harmful.get(pair) : harmless.get(pair);
        }
    }

    /** {@code everyRow} is added to every row, source runs included (empty in the analysis; tests build known answers with it). */
    static Sources sources(Study study, List<PairTokens> pairs, List<Integer> layers, List<Intervention> everyRow) {
        List<Row> rows = new ArrayList<>();
        for (PairTokens pt : pairs) {
            for (int[] t : List.of(pt.harmful(), pt.harmless())) {
                Row r = Row.of(t).with(everyRow).reading(ReadOut.metric(study.metric()));
                for (int l : layers) r = r.reading(ReadOut.activationAll(Hooks.attnResult(l)));
                rows.add(r);
            }
        }
        List<RowResult> res = study.sweep(rows);
        List<Map<Integer, Tensor>> harmful = new ArrayList<>(), harmless = new ArrayList<>();
        double[] hm = new double[pairs.size()], sm = new double[pairs.size()];
        for (int p = 0; p < pairs.size(); p++) {
            for (int k = 0; k < 2; k++) {
                RowResult r = res.get(2 * p + k);
                Map<Integer, Tensor> acts = new LinkedHashMap<>();
                for (int i = 0; i < layers.size(); i++) acts.put(layers.get(i), r.activation(1 + i));
                (k == 0 ? harmful : harmless).add(acts);
                (k == 0 ? hm : sm)[p] = r.metric(0);
            }
        }
        return new Sources(harmful, harmless, hm, sm);
    }

    static List<Integer> layersOf(List<HeadSet> sets) {
        return sets.stream().flatMap(s -> s.heads().stream()).map(Head::layer).distinct().sorted().toList();
    }

    /** Patched copies of every (direction, non-empty set, pair) as rows of one sweep. */
    static Measured measure(Study study, List<PairTokens> pairs, List<HeadSet> sets, Positions positions, Sources src, List<Intervention> everyRow) {
        int np = pairs.size();
        double[][] base = new double[2][np], source = new double[2][np];
        for (int p = 0; p < np; p++) {
            base[0][p] = src.harmfulMetric()[p];
            source[0][p] = src.harmlessMetric()[p];
            base[1][p] = src.harmlessMetric()[p];
            source[1][p] = src.harmfulMetric()[p];
        }
        List<Row> rows = new ArrayList<>();
        List<Intervention> ran = new ArrayList<>();
        for (Direction d : Direction.values()) {
            for (HeadSet set : sets) {
                if (set.isEmpty()) continue;
                for (int p = 0; p < np; p++) {
                    PairTokens pt = pairs.get(p);
                    List<Intervention> iv = patch(set, src.of(d, p, true), positions);
                    ran.addAll(iv);
                    rows.add(Row.of(d == Direction.NOISING ? pt.harmful() : pt.harmless()).with(everyRow).with(iv).reading(ReadOut.metric(study.metric())));
                }
            }
        }
        List<RowResult> res = study.sweep(rows);
        double[][][] patched = new double[2][sets.size()][np];
        int i = 0;
        for (Direction d : Direction.values()) {
            for (int s = 0; s < sets.size(); s++) {
                for (int p = 0; p < np; p++) patched[d.ordinal()][s][p] = sets.get(s).isEmpty() ? Double.NaN : res.get(i++).metric();
            }
        }
        return new Measured(base, source, patched, ran);
    }

    /** One prompt's greedy completions, unpatched and with a set's heads patched. */
    record Generated(Direction direction, String instruction, String baseline, boolean baselineRefusal, String patched, boolean patchedRefusal) { }

    /**
     * Greedy generations of the base prompts of both directions, unpatched and with the set's heads patched from the
     * source run (at the prompt's positions; generated positions are not patched: the source run has none).
     */
    static List<Generated> generate(Study study, List<PairTokens> pairs, HeadSet set, Positions positions, int maxNew, Sources src, List<Intervention> everyRow) {
        List<Row> baseRows = new ArrayList<>(), patchedRows = new ArrayList<>();
        for (Direction d : Direction.values()) {
            for (int p = 0; p < pairs.size(); p++) {
                int[] t = d == Direction.NOISING ? pairs.get(p).harmful() : pairs.get(p).harmless();
                baseRows.add(Row.of(t).with(everyRow).reading(ReadOut.generation(maxNew)));
                patchedRows.add(Row.of(t).with(everyRow).with(patch(set, src.of(d, p, true), positions)).reading(ReadOut.generation(maxNew)));
            }
        }
        // separate sweeps: rows with REPLACE edits decode a step at a time, the unpatched ones in the engine's own decoding
        List<RowResult> base = study.sweep(baseRows), patched = study.sweep(patchedRows);
        List<Generated> out = new ArrayList<>();
        int i = 0;
        for (Direction d : Direction.values()) {
            for (PairTokens pt : pairs) {
                String b = study.tokenizer().decode(base.get(i).generated(0), true), q = study.tokenizer().decode(patched.get(i++).generated(0), true);
                out.add(new Generated(d, d == Direction.NOISING ? pt.pair().harmful() : pt.pair().harmless(), b, study.refusalScore().isRefusal(b), q,
                        study.refusalScore().isRefusal(q)));
            }
        }
        return out;
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Params params = context.parameters(Params.class);
        if (params.maxNewTokens() < 0) throw new IllegalArgumentException("analysis " + ID + ": parameter maxNewTokens = '" + params.maxNewTokens() + "' is not >= 0");
        HeadClasses hc = study.headClasses();
        List<HeadSet> sets = headSets(hc);
        List<PairTokens> pairs = PairTokens.of(study.tokenizer(), study.pairs(params.includeHeldOut()));
        Sources src = sources(study, pairs, layersOf(sets), List.of());
        Measured m = measure(study, pairs, sets, params.positions(), src, List.of());
        HeadSet direct = sets.get(0);
        int maxNew = params.maxNewTokens() == 0 ? study.parameters().maxNewTokens() : params.maxNewTokens();
        List<Generated> gens = direct.isEmpty() ? List.of() : generate(study, pairs, direct, params.positions(), maxNew, src, List.of());

        List<String> read = new ArrayList<>();
        for (int l : layersOf(sets)) read.add(Hooks.attnResult(l));
        Provenance prov = Provenance.builder().read(read).ran(m.ran()).build();
        String where = params.positions() == Positions.ALL ? "every position" : "the last position";
        List<String> empty = sets.stream().filter(HeadSet::isEmpty).map(HeadSet::name).toList();
        String emptyNote = empty.isEmpty() ? "" : " Not patched (no such heads at threshold " + Stats.fmt(hc.threshold()) + " in " + hc.rangeLabel() + "): "
                + String.join(", ", empty) + ".";
        List<Integer> shown = new ArrayList<>();
        for (int s = 0; s < sets.size(); s++) if (!sets.get(s).isEmpty()) shown.add(s);

        List<Figure> figs = new ArrayList<>();
        if (!shown.isEmpty()) {
            Figure.Builder bar = Figure.bar("fraction-recovered").title("Fraction of the refusal metric recovered by patching a class of heads")
                    .x("heads patched (" + hc.rangeLabel() + ")", shown.stream().map(s -> sets.get(s).name() + " (" + sets.get(s).heads().size() + ")").toList())
                    .y("fraction recovered", "fraction").referenceLine("seed: noising direct 0.9", 0.9).referenceLine("seed: denoising direct 0.7", 0.7);
            for (Direction d : Direction.values()) bar.series(d.label(), shown.stream().mapToDouble(s -> m.fraction(d.ordinal(), s)).toArray());
            figs.add(bar.caption("attn.hook_result of every head of the class replaced at " + where + " by the source run's. Noising: run the harmful "
                    + "prompt (base), patch from its harmless twin (source); denoising: the reverse. Fraction = (patched - base) / (source - base) "
                    + "of the metrics averaged over " + pairs.size() + " pairs (Stats.recovered)." + emptyNote).provenance(prov).build());
            List<String> rowLabels = new ArrayList<>();
            double[][] cells = new double[2 * shown.size()][pairs.size()];
            for (Direction d : Direction.values()) {
                for (int k = 0; k < shown.size(); k++) {
                    rowLabels.add(d.label() + ": " + sets.get(shown.get(k)).name());
                    for (int p = 0; p < pairs.size(); p++) {
                        double f = m.pairFraction(d.ordinal(), shown.get(k), p);
                        cells[d.ordinal() * shown.size() + k][p] = Double.isFinite(f) ? f : Double.NaN;
                    }
                }
            }
            figs.add(Figure.heatmap("fraction-per-pair").title("Fraction recovered per pair").x("pair (subject token harmful/harmless)", pairLabels(study, pairs))
                    .rows(rowLabels).y("patching", "fraction").cells("fraction recovered", cells)
                    .caption("Per pair: (patched - base) / (source - base) of that pair's metrics; blank where base = source.").provenance(prov).build());
        }

        List<Table> tables = new ArrayList<>();
        Table.Builder classes = Table.of("head-sets").title("Heads patched per class").columns("class", "heads", "count")
                .caption("Classes from head-classes (Study.headClasses(): threshold " + Stats.fmt(hc.threshold()) + ", diagonal reading "
                        + hc.diagonalReading() + ", " + hc.rangeLabel() + "); other middle heads = every classified head that is neither direct nor diagonal.");
        for (HeadSet s : sets) classes.row(s.name(), s.labels(), Integer.toString(s.heads().size()));
        tables.add(classes.provenance(prov).build());
        Table.Builder table = Table.of("head-patching-table").title("Patching classes of heads").columns("direction", "class", "heads", "base metric (mean)",
                "source metric (mean)", "patched metric (mean)", "fraction recovered", "per-pair fraction min", "per-pair fraction max");
        for (Direction d : Direction.values()) {
            for (int s = 0; s < sets.size(); s++) {
                HeadSet set = sets.get(s);
                double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
                for (int p = 0; p < pairs.size(); p++) {
                    double f = m.pairFraction(d.ordinal(), s, p);
                    if (Double.isFinite(f)) { lo = Math.min(lo, f); hi = Math.max(hi, f); }
                }
                table.row(d.label(), set.name(), Integer.toString(set.heads().size()), Stats.fmt(Stats.mean(m.base()[d.ordinal()])),
                        Stats.fmt(Stats.mean(m.source()[d.ordinal()])), set.isEmpty() ? "not patched (no heads)" : Stats.fmt(Stats.mean(m.patched()[d.ordinal()][s])),
                        set.isEmpty() ? "n/a" : Stats.fmt(m.fraction(d.ordinal(), s)), Double.isFinite(lo) ? Stats.fmt(lo) : "n/a", Double.isFinite(hi) ? Stats.fmt(hi) : "n/a");
            }
        }
        tables.add(table.caption("Base: the run patched into (harmful for noising, harmless for denoising); source: the run patched from. " + pairs.size()
                + " pairs; patched at " + where + ".").provenance(prov).build());
        if (!gens.isEmpty()) {
            Table.Builder g = Table.of("patched-generations").title("Greedy generations with the direct heads patched")
                    .columns("patching", "instruction", "baseline completion", "baseline refusal", "patched completion", "patched refusal");
            for (Generated x : gens) {
                g.row(x.direction() == Direction.NOISING ? "noising (harmful prompt, heads from the harmless twin)" : "denoising (harmless prompt, heads from the harmful twin)",
                        x.instruction(), x.baseline(), Completion.flag(x.baselineRefusal()), x.patched(), Completion.flag(x.patchedRefusal()));
            }
            tables.add(g.caption("Greedy decoding, " + maxNew + " new tokens at most. The direct heads' attn.hook_result is patched at " + where
                    + " of the prompt at every step; generated positions are not patched (the source run has no activations there). Refusal = one "
                    + "of the seed's Appendix A substrings.").provenance(prov).build());
        }
        String summary = "Activation patching of whole classes of " + hc.rangeLabel() + " heads (" + sets.get(0).heads().size() + " direct, "
                + sets.get(1).heads().size() + " diagonal, " + sets.get(3).heads().size() + " other) on " + pairs.size() + " pairs, at " + where + "." + emptyNote;
        return new AnalysisResult(summary, figs, tables, findings(m, sets, gens, hc, study.pairs().size(), Verdicts.isSeedModel(study.model().info())));
    }

    private static List<String> pairLabels(Study study, List<PairTokens> pairs) {
        List<String> out = new ArrayList<>();
        for (int p = 0; p < pairs.size(); p++) {
            PairTokens pt = pairs.get(p);
            out.add(p + ": " + study.tokenizer().tokenString(pt.harmful()[pt.subject()]).trim() + "/" + study.tokenizer().tokenString(pt.harmless()[pt.subject()]).trim());
        }
        return out;
    }

    // ---- findings: each claim's rule is a first-class Rule applied to Measures over the pairs (seed pairs' value and
    // range, bootstrap interval over the held-out pairs)

    static final Rule NOISING = Rule.atLeast("recovers ~90 % = fraction of the metric recovered >= 0.75 (the seed's 0.90 less 0.15; PARTLY >= 0.50)", 0.75)
            .partly(0.5);

    static final Rule BYPASS = Rule.atLeast("bypasses = share of the harmful prompts refused at baseline that are no longer refused >= 0.9 (the seed's 3 of 3; "
            + "PARTLY >= 0.5); NOT_APPLICABLE when the baseline refuses none", 0.9).partly(0.5);

    static final Rule DENOISING = Rule.atLeast("recovers ~70 % = fraction of the metric recovered >= 0.50 (the seed's 0.70 less 0.20; PARTLY >= 0.25)", 0.5)
            .partly(0.25);

    /** (0, 2/3]: 1e-9 above 0 excludes 0 and keeps 2/3 inside at floating-point precision. */
    static final double SOME_TARGET = 1.0 / 3 + 1e-9, SOME_TOLERANCE = 1.0 / 3;

    static final Rule INDUCED = Rule.within("some but not most = induced (patched - baseline refusal rate on the harmless prompts) in (0, 2/3] (the seed's "
            + "1 of 3), i.e. within 1/3 + 1e-9 +/- 1/3; the second measure, induced capped at 2/3, holds whenever induced > 0, so more than 2/3 gives "
            + "PARTLY and none DISAGREES", SOME_TARGET, SOME_TOLERANCE);

    static final Rule ANTAGONISM = Rule.atMost("little effect, against the direct heads = direct + diagonal recovers <= 0.25 (first measure: its recovery "
            + "- 0.25) and at least 0.10 less than the direct heads alone (second measure: direct + diagonal - direct + 0.10); PARTLY when only one holds; "
            + "NOT_APPLICABLE without direct or diagonal heads", 0);

    /** Rule applied to one value (for the rule tests). */
    static Finding.Verdict verdict(Rule rule, double... values) {
        List<Measure> ms = new ArrayList<>();
        for (int i = 0; i < values.length; i++) ms.add(Measure.of("m" + i, values[i], ""));
        return rule.judge(ms, false);
    }

    /** The measures of claim 5: direct + diagonal - 0.25 and direct + diagonal - direct + 0.10. */
    static double[] antagonism(double direct, double both) {
        return new double[] {both - 0.25, both - direct + 0.1};
    }

    /** The measures of claim 4: induced and induced capped at 2/3. */
    static double[] induced(double baselineRate, double patchedRate) {
        double induced = patchedRate - baselineRate;
        return new double[] {induced, Math.min(induced, 2.0 / 3)};
    }

    /** Per-pair values that are defined (a pair the baseline does not refuse has no bypass share). */
    static Measure definedPerPair(Measure m) {
        return new Measure(m.name(), m.value(), m.basis(), m.perPair().stream().filter(Double::isFinite).toList(), m.interval());
    }

    static List<Finding> findings(Measured m, List<HeadSet> sets, List<Generated> gens, HeadClasses hc, int nSeed, boolean seedModel) {
        String c1 = "Noising the direct heads (run harmful, patch from harmless) recovers 90 % of the refusal metric.";
        String c2 = "Noising the direct heads bypasses refusal in generation (3 of 3 harmful instructions answered).";
        String c3 = "Denoising the direct heads (run harmless, patch from harmful) recovers 70 % of the refusal metric.";
        String c4 = "With the direct heads denoised, the model refuses only some harmless instructions (1 of 3).";
        String c5 = "In denoising, patching the direct and diagonal heads together has little effect: the diagonal heads act against the direct heads.";
        if (sets.get(0).isEmpty()) {
            String none = "Not measured: no direct heads at threshold " + Stats.fmt(hc.threshold()) + " in " + hc.rangeLabel() + ".";
            return List.of(Finding.judge(c1, NOISING, seedModel, none), Finding.judge(c2, BYPASS, seedModel, none), Finding.judge(c3, DENOISING, seedModel, none),
                    Finding.judge(c4, INDUCED, seedModel, none), Finding.judge(c5, ANTAGONISM, seedModel, none));
        }
        int np = m.base()[0].length, nHeld = np - nSeed;
        String heads = sets.get(0).heads().size() + " direct heads";
        Measure noise = Verdicts.overPairs("noising fraction recovered (" + heads + ")", nSeed, nHeld,
                idx -> Verdicts.recovered(m.patched()[0][0], m.base()[0], m.source()[0], idx));
        Measure denoise = Verdicts.overPairs("denoising fraction recovered (" + heads + ")", nSeed, nHeld,
                idx -> Verdicts.recovered(m.patched()[1][0], m.base()[1], m.source()[1], idx));
        // generations: pair p's noising completion at index p, its denoising completion at np + p
        java.util.function.IntPredicate refused = p -> gens.get(p).baselineRefusal(), stillRefused = p -> gens.get(p).patchedRefusal();
        Measure bypass = definedPerPair(Verdicts.overPairs("share of the baseline-refused harmful prompts no longer refused", nSeed, nHeld, idx -> {
            int r = 0, b = 0;
            for (int p : idx) if (refused.test(p)) { r++; if (!stillRefused.test(p)) b++; }
            return r == 0 ? Double.NaN : b / (double) r;
        }));
        java.util.function.ToDoubleFunction<int[]> inducedRate = idx -> {
            int base = 0, patched = 0;
            for (int p : idx) {
                if (gens.get(np + p).baselineRefusal()) base++;
                if (gens.get(np + p).patchedRefusal()) patched++;
            }
            return induced(base / (double) idx.length, patched / (double) idx.length)[0];
        };
        Measure induced = Verdicts.overPairs("induced refusal rate on the harmless prompts", nSeed, nHeld, inducedRate);
        Measure inducedCapped = Verdicts.overPairs("induced refusal rate, capped at 2/3", nSeed, nHeld, idx -> Math.min(inducedRate.applyAsDouble(idx), 2.0 / 3));
        int refusedAll = 0;
        for (int p = 0; p < np; p++) if (refused.test(p)) refusedAll++;
        String genNote = "Greedy generations of the " + np + " pairs (" + nSeed + " seed, " + nHeld + " held-out); " + refusedAll + " harmful prompts refused at baseline.";
        List<Finding> out = new ArrayList<>();
        out.add(Finding.judge(c1, NOISING, seedModel, "", noise));
        out.add(Finding.judge(c2, BYPASS, seedModel, genNote + (Double.isNaN(bypass.value()) ? " Not applicable: the baseline refuses none of the seed's harmful prompts." : ""),
                bypass));
        out.add(Finding.judge(c3, DENOISING, seedModel, "", denoise));
        out.add(Finding.judge(c4, INDUCED, seedModel, genNote, induced, inducedCapped));
        if (sets.get(1).isEmpty()) {
            out.add(Finding.judge(c5, ANTAGONISM, seedModel, "Not measured: no diagonal heads at threshold " + Stats.fmt(hc.threshold()) + " in " + hc.rangeLabel()
                    + " (direct + diagonal is the direct heads alone)."));
        } else {
            out.add(Finding.judge(c5, ANTAGONISM, seedModel, "Denoising, " + sets.get(0).heads().size() + " direct and " + sets.get(1).heads().size() + " diagonal heads.",
                    Verdicts.overPairs("direct + diagonal recovery - 0.25", nSeed, nHeld,
                            idx -> antagonism(Double.NaN, Verdicts.recovered(m.patched()[1][2], m.base()[1], m.source()[1], idx))[0]),
                    Verdicts.overPairs("direct + diagonal - direct alone recovery + 0.10", nSeed, nHeld,
                            idx -> antagonism(Verdicts.recovered(m.patched()[1][0], m.base()[1], m.source()[1], idx),
                                    Verdicts.recovered(m.patched()[1][2], m.base()[1], m.source()[1], idx))[1])));
        }
        return out;
    }
}
