package org.refusallab.analysis.blockgrouppatching;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Table;
import org.refusallab.study.Batches;
import org.refusallab.study.Interventions;
import org.refusallab.study.LayerGroups;
import org.refusallab.study.PairTokens;
import org.refusallab.study.Patching;
import org.refusallab.study.RefusalMetric;
import org.refusallab.study.Stats;
import org.refusallab.study.Study;
import org.refusallab.study.Verdicts;

/**
 * The seed's "Activation Patching Groups of Transformer Blocks": noising (run each harmful prompt, patch in its
 * harmless twin's block outputs) for layer group x {attention, MLP} x {subject, last position}; the fraction of the
 * metric recovered is (patched - clean) / (corrupt - clean), clean = harmful run, corrupt = harmless run.
 */
@Component(service = Analysis.class)
public final class BlockGroupPatching implements Analysis {

    public static final String ID = "block-group-patching";
    public static final List<String> BLOCKS = List.of("attention", "MLP");
    public static final List<String> POSITIONS = List.of("subject", "last");

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String title() {
        return "Patching groups of blocks (noising)";
    }

    @Override
    public int order() {
        return 60;
    }

    @Override
    public Map<String, String> parameters() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("layerGroups", "thirds");
        p.put("threshold", "0.5");
        return p;
    }

    /**
     * patched[group][block][position][pair] metrics, clean[pair] (harmful) and corrupt[pair] (harmless) metrics.
     */
    public record Result(List<LayerGroups.Group> groups, List<PairTokens> pairs, double[][][][] patched, double[] clean, double[] corrupt) {
        /** Fraction recovered from metrics averaged over pairs. */
        public double fraction(int g, int b, int p) {
            return Stats.recovered(Stats.mean(patched[g][b][p]), Stats.mean(clean), Stats.mean(corrupt));
        }
    }

    public static Result compute(Study study, List<LayerGroups.Group> groups) {
        List<PairTokens> pairs = study.pairTokens();
        RefusalMetric metric = study.metric();
        Batches b = study.batches();
        List<int[]> base = pairs.stream().map(PairTokens::harmful).toList();
        List<int[]> src = pairs.stream().map(PairTokens::harmless).toList();
        // sources first, then the base prompts: one cache run gives the sources' activations and both unpatched metrics
        List<int[]> both = new ArrayList<>(src);
        both.addAll(base);
        var sources = b.cache(both, Set.of("blocks.*.hook_attn_out", "blocks.*.hook_mlp_out"), List.of());
        double[] clean = new double[pairs.size()];
        for (int p = 0; p < pairs.size(); p++) clean[p] = metric.apply(sources.lastLogits()[pairs.size() + p]);
        double[] corrupt = new double[pairs.size()];
        for (int p = 0; p < pairs.size(); p++) corrupt[p] = metric.apply(sources.lastLogits()[p]);
        List<Patching.Copy> copies = new ArrayList<>();
        for (var g : groups) {
            for (int blk = 0; blk < 2; blk++) {
                for (int pos = 0; pos < 2; pos++) {
                    for (int p = 0; p < pairs.size(); p++) {
                        int at = pos == 0 ? pairs.get(p).subjectFromEnd() : -1;
                        List<Patching.Site> sites = new ArrayList<>();
                        for (int l = g.from(); l < g.to(); l++) {
                            sites.add(new Patching.Site(blk == 0 ? Interventions.attnOut(l) : Interventions.mlpOut(l), new int[] {at}));
                        }
                        copies.add(new Patching.Copy(p, p, sites));
                    }
                }
            }
        }
        double[] m = Patching.run(b, base, sources, copies, metric);
        double[][][][] patched = new double[groups.size()][2][2][pairs.size()];
        int i = 0;
        for (int g = 0; g < groups.size(); g++) for (int blk = 0; blk < 2; blk++) for (int pos = 0; pos < 2; pos++)
            for (int p = 0; p < pairs.size(); p++) patched[g][blk][pos][p] = m[i++];
        return new Result(groups, pairs, patched, clean, corrupt);
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = Study.of(context, ID);
        int n = study.nLayers();
        List<LayerGroups.Group> groups = LayerGroups.parse(study.param("layerGroups", "thirds"), n);
        double threshold = Double.parseDouble(study.param("threshold", "0.5"));
        Result r = compute(study, groups);
        List<String> xs = groups.stream().map(LayerGroups.Group::label).toList();
        List<Figure> figs = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        for (int pos = 0; pos < 2; pos++) {
            List<Figure.Series> series = new ArrayList<>();
            for (int blk = 0; blk < 2; blk++) {
                double[] ys = new double[groups.size()];
                for (int g = 0; g < groups.size(); g++) {
                    ys[g] = r.fraction(g, blk, pos);
                    rows.add(List.of(groups.get(g).label(), BLOCKS.get(blk), POSITIONS.get(pos), Stats.fmt(Stats.mean(r.patched()[g][blk][pos])), Stats.fmt(ys[g])));
                }
                series.add(Figure.Series.of(BLOCKS.get(blk), ys));
            }
            figs.add(new Figure("block-group-patching-" + POSITIONS.get(pos), "Noising block groups at the " + POSITIONS.get(pos) + " position",
                    Figure.Kind.BAR, "layer group", "fraction of metric recovered", "fraction", xs, null, series,
                    List.of(new Figure.ReferenceLine(Math.round(threshold * 100) + "%", "y", threshold)),
                    String.format("Run harmful prompts, patch in the harmless twin's hook_attn_out / hook_mlp_out of every layer in the group at the %s "
                            + "position. Fraction = (patched - clean) / (corrupt - clean), clean = harmful metric (mean %s), corrupt = harmless "
                            + "metric (mean %s); metrics averaged over %d pairs first.", POSITIONS.get(pos), Stats.fmt(Stats.mean(r.clean())),
                            Stats.fmt(Stats.mean(r.corrupt())), r.pairs().size())));
        }
        Table table = new Table("block-group-patching-table", "Block-group noising", List.of("layers", "block", "position", "patched metric", "fraction recovered"),
                rows, null);
        return new AnalysisResult("Noising patching of 12 block groups (3 layer groups x attention/MLP x subject/last position).",
                figs, List.of(table), findings(r, threshold));
    }

    static List<Finding> findings(Result r, double t) {
        List<Finding> out = new ArrayList<>();
        double c = Stats.mean(r.clean()), x = Stats.mean(r.corrupt());
        out.add(new Finding("The clean refusal metric (harmful instructions) is ~25 and the corrupt one (harmless) ~18 for gemma-2b-it.",
                "clean " + Stats.fmt(c) + ", corrupt " + Stats.fmt(x),
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
