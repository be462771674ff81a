package org.refusallab.analysis.blockgrouppatching;

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
import org.refusallab.api.analysis.Assumption;
import org.refusallab.api.analysis.Describe;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Interval;
import org.refusallab.api.result.Measure;
import org.refusallab.api.result.Rule;
import org.refusallab.api.result.Provenance;
import org.refusallab.api.result.Table;
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
 * The seed's "Activation Patching Groups of Transformer Blocks": noising (run each harmful prompt, patch in its
 * harmless twin's block outputs) for layer group x {attention, MLP} x {subject, last position}. The base run is the
 * harmful prompt, the source run its harmless twin; the fraction recovered is {@link Stats#recovered}.
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = BlockGroupPatching.ID, title = "Patching groups of blocks (noising)", order = 60,
        parameters = {BlockGroupPatching.Params.class, StudyParameters.class},
        assumes = Assumption.RESIDUAL_IS_SUM_OF_BLOCK_OUTPUTS)
public final class BlockGroupPatching implements Analysis {

    public static final String ID = "block-group-patching";
    public static final List<String> BLOCKS = List.of("attention", "MLP");
    public static final List<String> POSITIONS = List.of("subject", "last");

    @interface Params {
        @Describe("thirds (early / middle / late), or half-open layer ranges such as 0-6,6-12,12-18")
        String layerGroups() default "thirds";

        @Describe("fraction drawn as the threshold line and used by the findings")
        double threshold() default 0.5;
    }

    private final StudyService studies;

    @Activate
    public BlockGroupPatching(@Reference StudyService studies) {
        this.studies = studies;
    }

    /**
     * patched[group][block][position][pair] metrics, base[pair] (harmful run) and source[pair] (harmless run) metrics,
     * and the interventions run. Pairs: the {@code nSeed} seed pairs first, then the held-out pairs.
     */
    public record Result(List<LayerGroups.Group> groups, List<PairTokens> pairs, int nSeed, double[][][][] patched, double[] base, double[] source,
                         List<Intervention> interventions) {
        /** Fraction recovered from metrics averaged over the seed pairs. */
        public double fraction(int g, int b, int p) {
            return Verdicts.recovered(patched[g][b][p], base, source, seedIdx());
        }

        int[] seedIdx() {
            int[] idx = new int[nSeed];
            for (int i = 0; i < nSeed; i++) idx[i] = i;
            return idx;
        }

        /** The fraction of one setting as a measure: seed pairs' value and range, bootstrap over the held-out pairs. */
        Measure measure(String name, int g, int b, int p) {
            return Verdicts.overPairs(name, nSeed, base.length - nSeed, idx -> Verdicts.recovered(patched[g][b][p], base, source, idx));
        }
    }

    private static String blockHook(int block, int layer) {
        return block == 0 ? Hooks.attnOut(layer) : Hooks.mlpOut(layer);
    }

    /** Noising of every group on the seed pairs, then the held-out pairs (where the claims are about prompts of this form). */
    public static Result compute(Study study, List<LayerGroups.Group> groups) {
        return computeAll(study, List.of(groups)).get(0);
    }

    /**
     * {@link #compute} for several groupings at once: the unpatched runs once, and each distinct layer range once
     * however many groupings contain it (the configured thirds and their five alternatives share 7 of their 18 groups).
     */
    static List<Result> computeAll(Study study, List<List<LayerGroups.Group>> groupings) {
        List<PairTokens> pairs = PairTokens.of(study.tokenizer(), study.pairs(true));
        int nSeed = study.pairs().size();
        int n = study.nLayers();
        RefusalMetric metric = study.metric();
        // source runs (harmless) read their metric and every block output; base runs (harmful) their metric; one sweep
        List<Row> runs = new ArrayList<>();
        for (PairTokens p : pairs) {
            Row r = Row.of(p.harmless()).reading(ReadOut.metric(metric));
            for (int blk = 0; blk < 2; blk++) for (int l = 0; l < n; l++) r = r.reading(ReadOut.activationAll(blockHook(blk, l)));
            runs.add(r);
        }
        for (PairTokens p : pairs) runs.add(Row.of(p.harmful()).reading(ReadOut.metric(metric)));
        List<RowResult> unpatched = study.sweep(runs);
        // copies per distinct range [from, to): block x position x pair, in that order
        Map<List<Integer>, Integer> rangeIndex = new LinkedHashMap<>();
        List<Row> copies = new ArrayList<>();
        List<List<Intervention>> ranOfRange = new ArrayList<>();
        for (List<LayerGroups.Group> groups : groupings) {
            for (var g : groups) {
                if (rangeIndex.putIfAbsent(List.of(g.from(), g.to()), rangeIndex.size()) != null) continue;
                List<Intervention> ran = new ArrayList<>();
                for (int blk = 0; blk < 2; blk++) {
                    for (int pos = 0; pos < 2; pos++) {
                        for (int p = 0; p < pairs.size(); p++) {
                            int at = pos == 0 ? pairs.get(p).subjectFromEnd() : -1;
                            Row copy = Row.of(pairs.get(p).harmful());
                            for (int l = g.from(); l < g.to(); l++) {
                                Intervention patch = Intervention.at(blockHook(blk, l)).positions(at).replaceWith(unpatched.get(p).activation(1 + blk * n + l));
                                if (p < nSeed) ran.add(patch);
                                copy = copy.with(patch);
                            }
                            copies.add(copy.reading(ReadOut.metric(metric)));
                        }
                    }
                }
                ranOfRange.add(ran);
            }
        }
        List<RowResult> m = study.sweep(copies);
        double[] base = new double[pairs.size()], source = new double[pairs.size()];
        for (int p = 0; p < pairs.size(); p++) {
            source[p] = unpatched.get(p).metric();
            base[p] = unpatched.get(pairs.size() + p).metric();
        }
        List<Result> out = new ArrayList<>();
        for (List<LayerGroups.Group> groups : groupings) {
            double[][][][] patched = new double[groups.size()][2][2][pairs.size()];
            List<Intervention> ran = new ArrayList<>();
            for (int g = 0; g < groups.size(); g++) {
                int range = rangeIndex.get(List.of(groups.get(g).from(), groups.get(g).to()));
                int i = range * 4 * pairs.size();
                for (int blk = 0; blk < 2; blk++) for (int pos = 0; pos < 2; pos++)
                    for (int p = 0; p < pairs.size(); p++) patched[g][blk][pos][p] = m.get(i++).metric();
                ran.addAll(ranOfRange.get(range));
            }
            out.add(new Result(groups, pairs, nSeed, patched, base, source, ran));
        }
        return out;
    }

    /**
     * The seed's groups with one boundary moved by one layer (each way), and with boundary layers shared by both
     * neighbours (the closed reading of "L0-L6, L6-L12"); empty unless three half-open groups are configured.
     */
    static List<List<LayerGroups.Group>> alternatives(List<LayerGroups.Group> g, int n) {
        if (g.size() != 3) return List.of();
        int a = g.get(0).to(), b = g.get(1).to();
        List<List<LayerGroups.Group>> out = new ArrayList<>();
        int[][] moves = {{a - 1, b}, {a + 1, b}, {a, b - 1}, {a, b + 1}};
        for (int[] mv : moves) {
            if (mv[0] < 1 || mv[0] >= mv[1] || mv[1] >= n) continue;
            out.add(List.of(new LayerGroups.Group("early L0-L" + mv[0], 0, mv[0]), new LayerGroups.Group("middle L" + mv[0] + "-L" + mv[1], mv[0], mv[1]),
                    new LayerGroups.Group("late L" + mv[1] + "-L" + n, mv[1], n)));
        }
        if (b + 1 <= n) {
            out.add(List.of(new LayerGroups.Group("early L0-L" + a + " incl.", 0, a + 1), new LayerGroups.Group("middle L" + a + "-L" + b + " incl.", a, b + 1),
                    new LayerGroups.Group("late L" + b + "-L" + n, b, n)));
        }
        return out;
    }

    static String describe(List<LayerGroups.Group> groups) {
        return String.join(", ", groups.stream().map(g -> "[" + g.from() + "," + g.to() + ")").toList());
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Params params = context.parameters(Params.class);
        int n = study.nLayers();
        List<LayerGroups.Group> groups = LayerGroups.parse(params.layerGroups(), n);
        double threshold = params.threshold();
        List<List<LayerGroups.Group>> alts = alternatives(groups, n);
        List<List<LayerGroups.Group>> groupings = new ArrayList<>(List.of(groups));
        groupings.addAll(alts);
        List<Result> all = computeAll(study, groupings);
        Result r = all.get(0);
        boolean seedModel = Verdicts.isSeedModel(study.model().info());
        Provenance provenance = Provenance.builder().read(Hooks.everyLayer("hook_attn_out"), Hooks.everyLayer("hook_mlp_out"))
                .ran(r.interventions()).build();
        List<String> xs = groups.stream().map(LayerGroups.Group::label).toList();
        List<Figure> figs = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        for (int pos = 0; pos < 2; pos++) {
            Figure.Builder fig = Figure.bar("block-group-patching-" + POSITIONS.get(pos)).title("Noising block groups at the " + POSITIONS.get(pos) + " position")
                    .x("layer group", xs).y("fraction of metric recovered", "fraction").referenceLine(Math.round(threshold * 100) + "%", threshold)
                    .caption(String.format("Run harmful prompts (base run), patch in the harmless twin's (source run) hook_attn_out / hook_mlp_out of "
                            + "every layer in the group at the %s position. Fraction = (patched - base) / (source - base), base = harmful metric "
                            + "(mean %s), source = harmless metric (mean %s); metrics averaged over the %d seed pairs first. Groups are half-open "
                            + "(%s): the seed counts \"6 x 8 = 48 heads between L6 and L12\", six layers, so L6-L12 is [6, 12).", POSITIONS.get(pos),
                            Stats.fmt(Stats.mean(java.util.Arrays.copyOf(r.base(), r.nSeed()))), Stats.fmt(Stats.mean(java.util.Arrays.copyOf(r.source(), r.nSeed()))),
                            r.nSeed(), describe(groups)))
                    .provenance(provenance);
            for (int blk = 0; blk < 2; blk++) {
                double[] ys = new double[groups.size()];
                for (int g = 0; g < groups.size(); g++) {
                    ys[g] = r.fraction(g, blk, pos);
                    Measure m = r.measure("f", g, blk, pos);
                    Interval iv = m.interval();
                    rows.add(List.of(groups.get(g).label(), BLOCKS.get(blk), POSITIONS.get(pos), Stats.fmt(Stats.mean(java.util.Arrays.copyOf(r.patched()[g][blk][pos], r.nSeed()))),
                            Stats.fmt(ys[g]), Stats.fmt(m.min()) + " to " + Stats.fmt(m.max()),
                            iv == null ? "n/a" : Stats.fmt(iv.estimate()) + " [" + Stats.fmt(iv.lo()) + ", " + Stats.fmt(iv.hi()) + "]"));
                }
                fig.series(BLOCKS.get(blk), ys);
            }
            figs.add(fig.build());
        }
        int nHeld = r.base().length - r.nSeed();
        Table table = Table.of("block-group-patching-table").title("Block-group noising")
                .columns("layers", "block", "position", "patched metric", "fraction recovered (seed pairs)", "per seed pair", "held-out pairs, 95% bootstrap")
                .rows(rows).caption("Held-out: the same noising on " + nHeld + " held-out pairs (fraction of the pair-averaged metrics, seeded percentile "
                        + "bootstrap over pairs; n/a with fewer than 2).").provenance(provenance).build();

        List<Finding> findings = findings(r, threshold, n, seedModel);
        List<Table> tables = new ArrayList<>(List.of(table));
        if (!alts.isEmpty()) {
            // the same rules under other groupings: which verdicts depend on where the boundaries are
            List<List<String>> srows = new ArrayList<>();
            List<String> seedRow = new ArrayList<>(List.of("as configured: " + describe(groups)));
            for (Finding f : findings) seedRow.add(f.verdict().name());
            srows.add(seedRow);
            List<List<Finding>> altFindings = new ArrayList<>();
            for (int a = 0; a < alts.size(); a++) {
                var alt = alts.get(a);
                List<Finding> af = findings(all.get(1 + a), threshold, n, seedModel);
                altFindings.add(af);
                List<String> row = new ArrayList<>(List.of(describe(alt)));
                for (int k = 0; k < af.size(); k++) row.add(af.get(k).verdict().name() + " (" + measuresBrief(af.get(k)) + ")");
                srows.add(row);
            }
            List<String> cols = new ArrayList<>(List.of("grouping"));
            for (int k = 0; k < findings.size(); k++) cols.add("finding " + (k + 1));
            tables.add(Table.of("grouping-sensitivity").title("Sensitivity of the verdicts to the layer groups (boundaries moved by one layer)")
                    .columns(cols.toArray(String[]::new)).rows(srows).caption("Each row re-runs the noising with other group boundaries and applies the same rules. The "
                            + "configured groups are half-open, as the seed's count of 48 heads (six layers x 8) between L6 and L12 implies; the last row "
                            + "is the closed reading, where the boundary layers belong to both neighbours.").provenance(provenance).build());
            List<Finding> noted = new ArrayList<>();
            for (int k = 0; k < findings.size(); k++) {
                List<String> flips = new ArrayList<>();
                for (int a = 0; a < alts.size(); a++) {
                    if (altFindings.get(a).get(k).verdict() != findings.get(k).verdict()) flips.add(describe(alts.get(a)) + ": " + altFindings.get(a).get(k).verdict());
                }
                noted.add(flips.isEmpty() ? findings.get(k).note("Same verdict with every boundary moved by one layer and with shared boundaries.")
                        : findings.get(k).note("Sensitive to the grouping: " + String.join("; ", flips) + "."));
            }
            findings = noted;
        }
        return new AnalysisResult("Noising patching of 12 block groups (3 layer groups x attention/MLP x subject/last position), on the seed pairs and "
                + nHeld + " held-out pairs.", figs, tables, findings);
    }

    private static String measuresBrief(Finding f) {
        return String.join(", ", f.measures().stream().map(m -> Stats.fmt(m.value())).toList());
    }

    static List<Finding> findings(Result r, double t, int nLayers, boolean seedModel) {
        List<Finding> out = new ArrayList<>();
        int nHeld = r.base().length - r.nSeed();
        Measure clean = Verdicts.overPairs("base (harmful) metric", r.nSeed(), 0, idx -> Verdicts.mean(r.base(), idx));
        Measure corrupt = Verdicts.overPairs("source (harmless) metric", r.nSeed(), 0, idx -> Verdicts.mean(r.source(), idx));
        out.add(Finding.judge("For gemma-2b-it the clean refusal metric (harmful instructions) is ~25.",
                Rule.within("~25 = within 25 +/- 5 (20 %)", 25, 5).aboutSeedModel(), seedModel, "", clean));
        out.add(Finding.judge("For gemma-2b-it the corrupt refusal metric (harmless instructions) is ~18.",
                Rule.within("~18 = within 18 +/- 3.6 (20 %)", 18, 3.6).aboutSeedModel(), seedModel, "", corrupt));
        String pct = Math.round(t * 100) + "%";
        String layerNote = "Groups " + describe(r.groups()) + " (half-open; the seed's L0-L6, L6-L12, L12-L18 of 18 layers"
                + (nLayers == LayerGroups.SEED_LAYERS ? ")." : ", scaled to " + nLayers + " layers).");
        if (r.groups().size() != 3) {
            out.add(Finding.judge("Early MLPs at the subject, middle MLP and attention at the last position, and late MLPs at the last position are "
                    + "necessary; early and late attention are not.", Rule.atLeast("necessary = fraction recovered >= " + t, t), seedModel,
                    "Not evaluated (no measures): the claims are about three layer groups, " + r.groups().size() + " are configured."));
            return out;
        }
        int attn = 0, mlp = 1, subj = 0, last = 1;
        Rule necessary = Rule.atLeast("necessary = fraction of the metric recovered >= " + t + " (the seed's " + pct + ")", t);
        Rule notNecessary = Rule.below("not necessary = fraction recovered < " + t + " at each position (the seed's " + pct + ")", t);
        out.add(Finding.judge("Early-layer MLPs at the subject position are necessary (>= " + pct + " recovered): early subject enrichment.",
                necessary, seedModel, layerNote, r.measure("early MLP @ subject", 0, mlp, subj)));
        out.add(Finding.judge("Middle-layer MLP and attention at the last position are both necessary (>= " + pct + " each).",
                necessary, seedModel, layerNote, r.measure("middle MLP @ last", 1, mlp, last), r.measure("middle attention @ last", 1, attn, last)));
        out.add(Finding.judge("Late-layer MLPs at the last position are necessary (>= " + pct + "): late response generation.",
                necessary, seedModel, layerNote, r.measure("late MLP @ last", 2, mlp, last)));
        out.add(Finding.judge("Early-layer attention is not necessary at either position (< " + pct + ").",
                notNecessary, seedModel, layerNote, r.measure("early attention @ subject", 0, attn, subj), r.measure("early attention @ last", 0, attn, last)));
        out.add(Finding.judge("Late-layer attention is not necessary at either position (< " + pct + ").",
                notNecessary, seedModel, layerNote, r.measure("late attention @ subject", 2, attn, subj), r.measure("late attention @ last", 2, attn, last)));
        return out;
    }
}
