package org.refusallab.analysis.blockcontributions;

import java.util.ArrayList;
import java.util.HashMap;
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
import org.refusallab.api.cache.ActivationCache;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Measure;
import org.refusallab.api.result.Rule;
import org.refusallab.api.result.Provenance;
import org.refusallab.api.result.Table;
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
 * The seed's "Quantifying Per-Block Contributions": what each block writes along the unit refusal direction at the
 * last position, mean over harmful minus mean over harmless prompts (the seed's text plots harmless - harmful; the
 * sign used is stated on the figure and configurable with {@code sign}).
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = BlockContributions.ID, title = "Per-block contributions to the refusal component", order = 40,
        parameters = {BlockContributions.Params.class, StudyParameters.class},
        assumes = Assumption.RESIDUAL_IS_SUM_OF_BLOCK_OUTPUTS)
public final class BlockContributions implements Analysis {

    public static final String ID = "block-contributions";

    /** Which difference the figure shows. */
    enum Sign { HARMFUL_MINUS_HARMLESS, HARMLESS_MINUS_HARMFUL }

    @interface Params {
        @Describe("harmful-minus-harmless, or harmless-minus-harmful (the seed's plot)")
        Sign sign() default Sign.HARMFUL_MINUS_HARMLESS;

        @Describe("add the held-out pairs (study.heldOutPairs) to the seed's pairs")
        boolean includeHeldOut() default true;
    }

    private final StudyService studies;

    @Activate
    public BlockContributions(@Reference StudyService studies) {
        this.studies = studies;
    }

    /**
     * [0] attention, [1] MLP: mean over harmful minus mean over harmless of (block output . r/|r|) at the last
     * position, per layer; [2][0] the same difference for the last resid_post and [2][1] for the embedding
     * (L0 resid_pre). The residual after the last block decomposed: embed + sum over layers of attn + mlp.
     */
    public static double[][] contributions(Study study, List<PromptPair> pairs) {
        double[][][] per = perPair(study, pairs);
        int n = study.nLayers();
        double[][] out = new double[3][n];
        for (double[][] p : per) {
            for (int l = 0; l < n; l++) {
                out[0][l] += p[0][l] / pairs.size();
                out[1][l] += p[1][l] / pairs.size();
            }
            out[2][0] += p[2][0] / pairs.size();
            out[2][1] += p[2][1] / pairs.size();
        }
        return out;
    }

    /** The same differences for each pair alone (harmful minus its harmless twin): [pair][0 attn, 1 mlp, 2 {resid_post, embed}][layer]. */
    static double[][][] perPair(Study study, List<PromptPair> pairs) {
        int n = study.nLayers();
        float[] r = study.direction().values();
        List<String> hooks = new ArrayList<>(List.of(Hooks.EMBED, Hooks.residPost(n - 1)));
        for (int l = 0; l < n; l++) hooks.addAll(List.of(Hooks.attnOut(l), Hooks.mlpOut(l)));
        // harmful prompts then harmless ones, in the same sweep; every hook at the last position
        List<String> all = new ArrayList<>(pairs.stream().map(PromptPair::harmful).toList());
        all.addAll(pairs.stream().map(PromptPair::harmless).toList());
        List<Row> rows = new ArrayList<>();
        for (int[] t : study.chat(all)) {
            Row row = Row.of(t);
            for (String h : hooks) row = row.reading(ReadOut.activation(h, -1));
            rows.add(row);
        }
        List<RowResult> res = study.sweep(rows);
        double[][][] out = new double[pairs.size()][3][n];
        for (int i = 0; i < res.size(); i++) {
            int pair = i % pairs.size();
            double w = i < pairs.size() ? 1.0 : -1.0;
            Map<String, Tensor> last = new HashMap<>();
            for (int h = 0; h < hooks.size(); h++) last.put(hooks.get(h), res.get(i).activation(h)); // [1, d_model]
            ActivationCache cache = new ActivationCache(last, n);
            double[] parts = cache.decompose(n, -1).project(r); // embed, L0 attn, L0 mlp, ...
            for (int l = 0; l < n; l++) {
                out[pair][0][l] += w * parts[1 + 2 * l];
                out[pair][1][l] += w * parts[2 + 2 * l];
            }
            out[pair][2][0] += w * Stats.dot(cache.at(Hooks.residPost(n - 1), -1), study.direction().unit());
            out[pair][2][1] += w * parts[0];
        }
        return out;
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Params params = context.parameters(Params.class);
        double sign = params.sign() == Sign.HARMFUL_MINUS_HARMLESS ? 1 : -1;
        List<PromptPair> pairs = study.pairs(params.includeHeldOut());
        int n = study.nLayers();
        double[][][] per = perPair(study, pairs);
        double[][] c = new double[3][n];
        for (double[][] p : per) {
            for (int l = 0; l < n; l++) {
                c[0][l] += p[0][l] / pairs.size();
                c[1][l] += p[1][l] / pairs.size();
            }
            c[2][0] += p[2][0] / pairs.size();
            c[2][1] += p[2][1] / pairs.size();
        }
        double[] attn = c[0].clone(), mlp = c[1].clone();
        for (int l = 0; l < n; l++) { attn[l] *= sign; mlp[l] *= sign; }
        List<String> xs = new ArrayList<>();
        for (int l = 0; l < n; l++) xs.add("L" + l);
        Provenance provenance = Provenance.builder().read(Hooks.EMBED, Hooks.everyLayer("hook_attn_out"), Hooks.everyLayer("hook_mlp_out"),
                Hooks.residPost(n - 1)).direction(study.direction().provenance()).build();
        String signText = sign > 0 ? "harmful - harmless" : "harmless - harmful";
        Figure fig = Figure.bar("block-contributions").title("Refusal component written by each block (" + signText + ")")
                .x("layer", xs).y("(" + signText + ") component along r/|r|", "residual units")
                .series("attention (hook_attn_out)", attn).series("MLP (hook_mlp_out)", mlp)
                .caption("Sign convention: mean over " + (sign > 0 ? "harmful minus mean over harmless" : "harmless minus mean over harmful")
                        + " prompts of block output . r/|r| at the last position (" + pairs.size() + " pairs). Positive "
                        + (sign > 0 ? "= the block writes more refusal on harmful prompts." : "= the block writes more refusal on harmless prompts (the seed's plot)."))
                .provenance(provenance).build();

        // the residual stream is the sum of the embedding and every block's output: the bars must add up
        double total = c[2][1];
        for (int l = 0; l < n; l++) total += c[0][l] + c[1][l];
        List<List<String>> rows = new ArrayList<>();
        for (int l = 0; l < n; l++) rows.add(List.of("L" + l, Stats.fmt(c[0][l]), Stats.fmt(c[1][l])));
        Table table = Table.of("block-contributions-table").title("Per-block differences (harmful - harmless)").columns("layer", "attention", "MLP")
                .rows(rows).caption(String.format("Check: embedding (L0 resid_pre) difference %s + all blocks = %s; last resid_post difference %s.",
                        Stats.fmt(c[2][1]), Stats.fmt(total), Stats.fmt(c[2][0]))).provenance(provenance).build();
        return new AnalysisResult("Differential (harmful vs harmless) refusal component written by every attention and MLP block at the last position.",
                List.of(fig), List.of(table), findings(per, study.pairs().size(), n));
    }

    /** Mean over the pairs at idx of one block kind's per-layer difference, times sign. */
    static double[] mean(double[][][] per, int kind, int[] idx, double sign) {
        double[] m = new double[per[0][kind].length];
        for (int i : idx) for (int l = 0; l < m.length; l++) m[l] += sign * per[i][kind][l] / idx.length;
        return m;
    }

    /** Middle MLPs' (seed L6-L12) share of all positive block differences (0 if none is positive). */
    static double mlpMidShare(double[] attn, double[] mlp, int from, int to) {
        double positive = 0, mid = 0;
        for (int l = 0; l < attn.length; l++) positive += Math.max(0, attn[l]) + Math.max(0, mlp[l]);
        for (int l = from; l < to; l++) mid += mlp[l];
        return positive == 0 ? 0 : mid / positive;
    }

    /** Attention (seed L3-L8) over the middle MLPs' (seed L6-L12) total; 1 if the MLPs write nothing positive. */
    static double attnOverMlp(double[] attn, double[] mlp, int aFrom, int aTo, int mFrom, int mTo) {
        double a = 0, m = 0;
        for (int l = aFrom; l < aTo; l++) a += attn[l];
        for (int l = mFrom; l < mTo; l++) m += mlp[l];
        return m <= 0 ? 1 : a / m;
    }

    /**
     * Findings on per-pair differences ([pair][0 attn, 1 mlp][layer], harmful - harmless; seed pairs first), under both
     * readings of the seed's sign: the claims' words (a block "writes" refusal: harmful - harmless) and its plot's
     * label (harmless - harmful).
     */
    static List<Finding> findings(double[][][] per, int nSeed, int n) {
        int nHeld = per.length - nSeed;
        int l3 = LayerGroups.scaled(3, n), l6 = LayerGroups.scaled(6, n), l8 = LayerGroups.scaled(8, n), l12 = LayerGroups.scaled(12, n);
        List<Integer> named = new ArrayList<>();
        for (int seedLayer : new int[] {8, 11, 12}) {
            int l = Math.min(LayerGroups.scaled(seedLayer, n), n - 1);
            if (!named.contains(l)) named.add(l);
        }
        String note = Verdicts.layerRule(n, 3, 6, 8, 11, 12);
        List<List<Finding>> byClaim = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        for (double sign : new double[] {1, -1}) {
            String reading = sign > 0 ? "harmful - harmless (the claims' words: a block writes refusal)" : "harmless - harmful (the label of the seed's plot)";
            byClaim.get(0).add(Finding.judge("MLPs between L6 and L12 write a large amount of the refusal component (differentially on harmful vs harmless).",
                    Rule.atLeast("large amount = the MLPs L6-L12 write at least half of all positive block differences", 0.5).partly(0.25), false, note,
                    Verdicts.overPairs("MLPs L" + l6 + "-L" + (l12 - 1) + " share of positive differences", nSeed, nHeld,
                            idx -> mlpMidShare(mean(per, 0, idx, sign), mean(per, 1, idx, sign), l6, l12))).reading(reading));
            byClaim.get(1).add(Finding.judge("Attention between L3 and L8 plays a minor role in writing the refusal component.",
                    Rule.within("minor role = attention L3-L8 writes a positive amount below half of what the MLPs L6-L12 write (ratio in [0, 0.5])",
                            0.25, 0.25).partly(0.5), false, note,
                    Verdicts.overPairs("attention L" + l3 + "-L" + (l8 - 1) + " / MLPs L" + l6 + "-L" + (l12 - 1), nSeed, nHeld,
                            idx -> attnOverMlp(mean(per, 0, idx, sign), mean(per, 1, idx, sign), l3, l8, l6, l12))).reading(reading));
            Measure[] reduce = new Measure[named.size()];
            for (int k = 0; k < named.size(); k++) {
                int l = named.get(k);
                reduce[k] = Verdicts.overPairs("attention L" + l + " difference", nSeed, nHeld, idx -> mean(per, 0, idx, sign)[l]);
            }
            double[] seedAttn = mean(per, 0, java.util.stream.IntStream.range(0, nSeed).toArray(), sign);
            List<String> negative = new ArrayList<>();
            for (int l = 0; l < n; l++) if (seedAttn[l] < 0) negative.add("L" + l);
            byClaim.get(2).add(Finding.judge("Some attention blocks (L8, L11, L12) actually reduce the refusal component.",
                    Rule.below("reduce = the named attention blocks' difference is negative", 0), false,
                    (note + " Attention blocks with a negative difference anywhere (seed pairs): " + (negative.isEmpty() ? "none" : String.join(", ", negative)) + ".").trim(),
                    reduce).reading(reading));
        }
        List<Finding> out = new ArrayList<>();
        for (List<Finding> alternatives : byClaim) out.addAll(Finding.readings(alternatives));
        return out;
    }
}
