package org.refusallab.analysis.blockgrouppatching;

import java.util.ArrayList;
import java.util.List;
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
     * and the interventions run.
     */
    public record Result(List<LayerGroups.Group> groups, List<PairTokens> pairs, double[][][][] patched, double[] base, double[] source,
                         List<Intervention> interventions) {
        /** Fraction recovered from metrics averaged over pairs. */
        public double fraction(int g, int b, int p) {
            return Stats.recovered(Stats.mean(patched[g][b][p]), Stats.mean(base), Stats.mean(source));
        }
    }

    private static String blockHook(int block, int layer) {
        return block == 0 ? Hooks.attnOut(layer) : Hooks.mlpOut(layer);
    }

    public static Result compute(Study study, List<LayerGroups.Group> groups) {
        List<PairTokens> pairs = study.pairTokens();
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
        List<Row> copies = new ArrayList<>();
        List<Intervention> ran = new ArrayList<>();
        for (var g : groups) {
            for (int blk = 0; blk < 2; blk++) {
                for (int pos = 0; pos < 2; pos++) {
                    for (int p = 0; p < pairs.size(); p++) {
                        int at = pos == 0 ? pairs.get(p).subjectFromEnd() : -1;
                        Row copy = Row.of(pairs.get(p).harmful());
                        for (int l = g.from(); l < g.to(); l++) {
                            Intervention patch = Intervention.at(blockHook(blk, l)).positions(at).replaceWith(unpatched.get(p).activation(1 + blk * n + l));
                            ran.add(patch);
                            copy = copy.with(patch);
                        }
                        copies.add(copy.reading(ReadOut.metric(metric)));
                    }
                }
            }
        }
        List<RowResult> m = study.sweep(copies);
        double[][][][] patched = new double[groups.size()][2][2][pairs.size()];
        int i = 0;
        for (int g = 0; g < groups.size(); g++) for (int blk = 0; blk < 2; blk++) for (int pos = 0; pos < 2; pos++)
            for (int p = 0; p < pairs.size(); p++) patched[g][blk][pos][p] = m.get(i++).metric();
        double[] base = new double[pairs.size()], source = new double[pairs.size()];
        for (int p = 0; p < pairs.size(); p++) {
            source[p] = unpatched.get(p).metric();
            base[p] = unpatched.get(pairs.size() + p).metric();
        }
        return new Result(groups, pairs, patched, base, source, ran);
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Params params = context.parameters(Params.class);
        int n = study.nLayers();
        List<LayerGroups.Group> groups = LayerGroups.parse(params.layerGroups(), n);
        double threshold = params.threshold();
        Result r = compute(study, groups);
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
                            + "(mean %s), source = harmless metric (mean %s); metrics averaged over %d pairs first.", POSITIONS.get(pos),
                            Stats.fmt(Stats.mean(r.base())), Stats.fmt(Stats.mean(r.source())), r.pairs().size()))
                    .provenance(provenance);
            for (int blk = 0; blk < 2; blk++) {
                double[] ys = new double[groups.size()];
                for (int g = 0; g < groups.size(); g++) {
                    ys[g] = r.fraction(g, blk, pos);
                    rows.add(List.of(groups.get(g).label(), BLOCKS.get(blk), POSITIONS.get(pos), Stats.fmt(Stats.mean(r.patched()[g][blk][pos])), Stats.fmt(ys[g])));
                }
                fig.series(BLOCKS.get(blk), ys);
            }
            figs.add(fig.build());
        }
        Table table = Table.of("block-group-patching-table").title("Block-group noising")
                .columns("layers", "block", "position", "patched metric", "fraction recovered").rows(rows).provenance(provenance).build();
        return new AnalysisResult("Noising patching of 12 block groups (3 layer groups x attention/MLP x subject/last position).",
                figs, List.of(table), findings(r, threshold));
    }

    static List<Finding> findings(Result r, double t) {
        List<Finding> out = new ArrayList<>();
        double c = Stats.mean(r.base()), x = Stats.mean(r.source());
        out.add(new Finding("The refusal metric of the harmful instructions (base run) is ~25 and of the harmless ones (source run) ~18 for gemma-2b-it.",
                "base (harmful) " + Stats.fmt(c) + ", source (harmless) " + Stats.fmt(x),
                Verdicts.of(Math.abs(c - 25) < 5 && Math.abs(x - 18) < 4, c > x)));
        if (r.groups().size() != 3) {
            out.add(new Finding("Early MLPs at the subject, middle MLP and attention at the last position are necessary; early and late attention are not.",
                    "not evaluated: the claims are about three layer groups, " + r.groups().size() + " are configured", Finding.Verdict.NOT_APPLICABLE));
            return out;
        }
        int attn = 0, mlp = 1, subj = 0, last = 1;
        double earlyMlpSubj = r.fraction(0, mlp, subj), midMlpLast = r.fraction(1, mlp, last), midAttnLast = r.fraction(1, attn, last);
        double earlyAttn = Math.max(r.fraction(0, attn, subj), r.fraction(0, attn, last));
        double lateAttn = Math.max(r.fraction(2, attn, subj), r.fraction(2, attn, last));
        String pct = Math.round(t * 100) + "%";
        out.add(new Finding("Early-layer MLPs at the subject position are necessary (>= " + pct + " recovered): early subject enrichment.",
                "early MLP @ subject: " + Stats.fmt(earlyMlpSubj), Verdicts.of(earlyMlpSubj >= t, false)));
        out.add(new Finding("Middle-layer MLP and attention at the last position are both necessary (>= " + pct + " each).",
                "middle MLP @ last: " + Stats.fmt(midMlpLast) + ", middle attention @ last: " + Stats.fmt(midAttnLast),
                Verdicts.of(midMlpLast >= t && midAttnLast >= t, midMlpLast >= t || midAttnLast >= t)));
        out.add(new Finding("Early-layer attention is not necessary at either position (< " + pct + ").",
                "largest early attention fraction: " + Stats.fmt(earlyAttn), Verdicts.of(earlyAttn < t, false)));
        out.add(new Finding("Late-layer attention is not necessary at either position (< " + pct + ").",
                "largest late attention fraction: " + Stats.fmt(lateAttn), Verdicts.of(lateAttn < t, false)));
        return out;
    }
}
