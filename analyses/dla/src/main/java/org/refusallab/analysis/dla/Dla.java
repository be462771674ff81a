package org.refusallab.analysis.dla;

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
import org.refusallab.api.cache.ResidualStack;
import org.refusallab.api.model.Architecture;
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
 * The seed's "Logit Lens" and "Isolating Relevant Components": direct logit attribution along the pullback
 * direction p = W_U[:, refusal token] - mean of W_U over all other tokens (so that x_normalized . p is the refusal
 * metric), at the last position. (a) the residual after every layer, final-norm scaled, dotted with p, harmful and
 * harmless; (b) harmful - harmless; (c) every block's attention and MLP output and every head's result, scaled by
 * the cached final scale (TransformerLens apply_ln_to_stack), harmful - harmless. The final norm's (1 + w) is applied
 * once, to every vector (TransformerLens folds it into W_U instead).
 *
 * <p>Gemma 2 (declared linearisations): the attribution is of the logits before the final soft-cap, and the
 * components are checked against that pre-soft-cap metric (read as cap * atanh(logits / cap)); each head's result goes
 * through the post-attention norm with its cached scale ({@code ActivationCache.headContributions}), so a layer's heads
 * sum to its attention component.
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = Dla.ID, title = "Direct logit attribution along the pullback direction", order = 90,
        parameters = {Dla.Params.class, StudyParameters.class},
        assumes = Assumption.RESIDUAL_IS_SUM_OF_BLOCK_OUTPUTS,
        linearises = {Assumption.LINEAR_LOGITS, Assumption.HEAD_RESULTS_SUM_TO_ATTN_OUT})
public final class Dla implements Analysis {

    public static final String ID = "dla";

    /** How the per-layer residuals of (a) and (b) are scaled before the dot product with p. */
    enum Scaling { CACHED_FINAL, OWN_RMS }

    @interface Params {
        @Describe("per-layer logit lens: cached-final (divide by ln_final.hook_scale of the run, TransformerLens apply_ln_to_stack) "
                + "or own-rms (divide each residual by its own RMS); components always use the cached final scale, so they add up")
        Scaling scaling() default Scaling.CACHED_FINAL;

        @Describe("add the held-out pairs (study.heldOutPairs) to the seed's pairs")
        boolean includeHeldOut() default true;
    }

    private final StudyService studies;

    @Activate
    public Dla(@Reference StudyService studies) {
        this.studies = studies;
    }

    /**
     * Means over one prompt set. {@code lens[0]} is the embedding, {@code lens[l + 1]} the residual after layer l;
     * {@code components} are "embed", "L0 attn", "L0 mlp", ...; {@code heads[layer][head]}; {@code metric} the
     * model's refusal metric (logit read-out); {@code linearMetric} the same metric of the logits before the final
     * soft-cap (the metric itself on a model without one), which the components must add up to.
     */
    record SetDla(double[] lens, double[] components, double[][] heads, double metric, double linearMetric) {
        SetDla minus(SetDla o) {
            double[][] h = new double[heads.length][];
            for (int l = 0; l < h.length; l++) h[l] = sub(heads[l], o.heads[l]);
            return new SetDla(sub(lens, o.lens), sub(components, o.components), h, metric - o.metric, linearMetric - o.linearMetric);
        }

        private static double[] sub(double[] a, double[] b) {
            double[] out = new double[a.length];
            for (int i = 0; i < a.length; i++) out[i] = a[i] - b[i];
            return out;
        }
    }

    /** p = W_U[:, token] - mean over the other tokens of W_U[:, t], in double: x . p = logit(token) - mean(other logits). */
    static float[] pullback(Tensor unembed, int token) {
        int d = unembed.dim(0), vocab = unembed.dim(1);
        if (token < 0 || token >= vocab) throw new IllegalArgumentException("refusal token id " + token + " outside vocab of " + vocab);
        float[] w = unembed.data();
        float[] p = new float[d];
        for (int i = 0; i < d; i++) {
            double sum = 0;
            for (int t = 0; t < vocab; t++) sum += w[i * vocab + t];
            double self = w[i * vocab + token];
            p[i] = (float) (self - (sum - self) / (vocab - 1));
        }
        return p;
    }

    /**
     * The refusal metric (logit of {@code token} - mean of the others) of the logits before the final soft-cap, each
     * logit recovered as cap * atanh(l / cap): what the components add up to on a soft-capped model (Gemma 2).
     */
    static double preSoftcapMetric(Architecture arch, float[] logits, int token) {
        double others = 0;
        for (int t = 0; t < logits.length; t++) if (t != token) others += arch.preSoftcapLogit(logits[t]);
        return arch.preSoftcapLogit(logits[token]) - others / (logits.length - 1);
    }

    /** DLA of each prompt set (harmful, harmless) in one batched sweep. */
    static SetDla[] compute(Study study, List<PromptPair> pairs, Scaling scaling) {
        int n = study.nLayers(), nHeads = study.model().info().nHeads();
        Architecture arch = study.model().architecture();
        // Gemma 2: heads through the post-attention norm (its cached scale), logits before the final soft-cap
        float[][] postNorm = new float[n][];
        if (arch.postNorms()) for (int l = 0; l < n; l++) postNorm[l] = study.model().postAttentionNormWeight(l);
        double eps = study.model().info().rmsNormEps();
        float[] w = study.model().finalNormWeight();
        int token = study.tokenizer().tokenId(study.parameters().refusalToken());
        float[] p = pullback(study.model().unembedMatrix(), token);
        // the seed's metric, whatever study.metric says: the pullback is exact for it (x_normalized . p = metric)
        RefusalMetric logitMetric = new RefusalMetric(RefusalMetric.Kind.LOGIT, token);
        List<String> hooks = new ArrayList<>(List.of(Hooks.EMBED, Hooks.LN_FINAL_SCALE));
        for (int l = 0; l < n; l++) hooks.addAll(List.of(Hooks.attnOut(l), Hooks.mlpOut(l), Hooks.attnResult(l), Hooks.residPost(l)));
        if (arch.postNorms()) for (int l = 0; l < n; l++) hooks.add(Hooks.ln1PostScale(l));
        List<String> all = new ArrayList<>(pairs.stream().map(PromptPair::harmful).toList());
        all.addAll(pairs.stream().map(PromptPair::harmless).toList());
        List<Row> rows = new ArrayList<>();
        for (int[] t : study.chat(all)) {
            Row row = Row.of(t).reading(ReadOut.metric(logitMetric));
            for (String h : hooks) row = row.reading(ReadOut.activation(h, -1));
            if (arch.softCapsLogits()) row = row.reading(ReadOut.logits(-1)); // read-out 1 + hooks.size()
            rows.add(row);
        }
        List<RowResult> res = study.sweep(rows);
        SetDla[] out = new SetDla[2];
        for (int set = 0; set < 2; set++) {
            double[] lens = new double[n + 1], comps = new double[1 + 2 * n];
            double[][] heads = new double[n][nHeads];
            double metric = 0, linearMetric = 0;
            for (int k = 0; k < pairs.size(); k++) {
                RowResult r = res.get(set * pairs.size() + k);
                Map<String, Tensor> last = new HashMap<>();
                for (int h = 0; h < hooks.size(); h++) last.put(hooks.get(h), r.activation(h + 1));
                ActivationCache cache = new ActivationCache(last, n);
                float scale = cache.finalScale(-1);
                add(comps, cache.decompose(n, -1).applyFinalNorm(scale, w).dot(p), pairs.size());
                for (int l = 0; l < n; l++) add(heads[l], cache.headContributions(l, -1, postNorm[l]).applyFinalNorm(scale, w).dot(p), pairs.size());
                for (int l = 0; l <= n; l++) {
                    float[] x = l == 0 ? cache.at(Hooks.EMBED, -1) : cache.at(Hooks.residPost(l - 1), -1);
                    float s = scaling == Scaling.CACHED_FINAL ? scale : (float) Math.sqrt(Stats.dot(x, x) / x.length + eps);
                    lens[l] += new ResidualStack(List.of("x"), new float[][] {x}).applyFinalNorm(s, w).dot(p)[0] / pairs.size();
                }
                metric += r.metric(0) / pairs.size();
                linearMetric += (arch.softCapsLogits() ? preSoftcapMetric(arch, r.logits(1 + hooks.size()), token) : r.metric(0)) / pairs.size();
            }
            out[set] = new SetDla(lens, comps, heads, metric, linearMetric);
        }
        return out;
    }

    private static void add(double[] acc, double[] xs, int count) {
        for (int i = 0; i < acc.length; i++) acc[i] += xs[i] / count;
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Params params = context.parameters(Params.class);
        List<PromptPair> pairs = study.pairs(params.includeHeldOut());
        int n = study.nLayers(), nHeads = study.model().info().nHeads();
        SetDla[] sets = compute(study, pairs, params.scaling());
        Architecture arch = study.model().architecture();
        String metricText = arch.softCapsLogits() ? "the refusal metric of the logits before the final soft-cap (z = "
                + Stats.fmt(arch.finalLogitSoftcap()) + " * atanh(logits / " + Stats.fmt(arch.finalLogitSoftcap()) + "))" : "the refusal metric";
        SetDla harmful = sets[0], harmless = sets[1], diff = harmful.minus(harmless);

        List<String> lensLabels = new ArrayList<>(List.of("embed"));
        for (int l = 0; l < n; l++) lensLabels.add("L" + l);
        List<String> compLabels = new ArrayList<>(List.of("embed"));
        for (int l = 0; l < n; l++) compLabels.addAll(List.of("L" + l + " attn", "L" + l + " mlp"));
        List<String> headLabels = new ArrayList<>(), layerLabels = new ArrayList<>();
        for (int h = 0; h < nHeads; h++) headLabels.add("H" + h);
        for (int l = 0; l < n; l++) layerLabels.add("L" + l);
        String token = study.parameters().refusalToken();
        String scalingText = params.scaling() == Scaling.CACHED_FINAL
                ? "divided by the run's cached final-norm scale ln_final.hook_scale (TransformerLens apply_ln_to_stack)"
                : "divided by its own RMS (sqrt(mean(x^2) + eps))";
        Provenance lensProv = Provenance.builder().read(Hooks.EMBED, Hooks.everyLayer("hook_resid_post"), Hooks.LN_FINAL_SCALE).build();
        Provenance compProv = Provenance.builder().read(Hooks.EMBED, Hooks.everyLayer("hook_attn_out"), Hooks.everyLayer("hook_mlp_out"),
                Hooks.LN_FINAL_SCALE).build();
        Provenance headProv = arch.postNorms()
                ? Provenance.builder().read(Hooks.everyLayer("attn.hook_result"), "blocks.*.ln1_post.hook_scale", Hooks.LN_FINAL_SCALE).build()
                : Provenance.builder().read(Hooks.everyLayer("attn.hook_result"), Hooks.LN_FINAL_SCALE).build();
        String pText = "p = W_U['" + token + "'] - mean of W_U over all other tokens";

        Figure absolute = Figure.line("dla-by-layer").title("Logit lens: DLA of the residual after each layer along the pullback direction")
                .x("residual after layer", lensLabels).y("DLA (residual . p)", "logit units")
                .series("harmful", harmful.lens()).series("harmless", harmless.lens())
                .caption("Residual at the last position " + scalingText + ", times the final norm's (1 + w), dotted with " + pText
                        + "; mean over " + pairs.size() + " prompts per set. After the last layer it equals " + metricText + ".")
                .provenance(lensProv).build();
        Figure difference = Figure.line("dla-difference").title("Logit lens: DLA harmful - harmless after each layer")
                .x("residual after layer", lensLabels).y("DLA harmful - harmless", "logit units").series("harmful - harmless", diff.lens())
                .referenceLine("zero", 0).caption("The difference controls for the grammatical effect shared by both prompt sets (the seed's reading). "
                        + "Residuals " + scalingText + ".").provenance(lensProv).build();
        Figure components = Figure.bar("component-dla").title("Component DLA, harmful - harmless")
                .x("component", compLabels).y("DLA harmful - harmless", "logit units").series("harmful - harmless", diff.components())
                .caption("Embedding and every block's hook_attn_out and hook_mlp_out at the last position, each divided by its own run's cached "
                        + "final scale and multiplied by (1 + w), dotted with p. With the cached scale even an identical last-token embedding "
                        + "contributes to the difference, because the two runs' final scales differ.").provenance(compProv).build();
        Figure headFig = Figure.heatmap("head-dla").title("Head DLA (attn.hook_result), harmful - harmless").x("head", headLabels).rows(layerLabels)
                .y("layer", "logit units").cells("harmful - harmless", diff.heads())
                .caption((arch.postNorms()
                        ? "Each head's result at the last position through the post-attention norm with its cached scale (result / ln1_post.hook_scale"
                                + " * (1 + w_post)), so a layer's heads sum to its attention component; then"
                        : "Each head's result at the last position,") + " scaled with the cached final scale and (1 + w), dotted with p.")
                .provenance(headProv).build();

        List<List<String>> rows = new ArrayList<>();
        double sumHarmful = 0, sumHarmless = 0;
        for (int c = 0; c < compLabels.size(); c++) {
            rows.add(List.of(compLabels.get(c), Stats.fmt(harmful.components()[c]), Stats.fmt(harmless.components()[c]), Stats.fmt(diff.components()[c])));
            sumHarmful += harmful.components()[c];
            sumHarmless += harmless.components()[c];
        }
        Table table = Table.of("component-dla-table").title("Component DLA (mean per prompt set)").columns("component", "harmful", "harmless", "harmful - harmless")
                .rows(rows).caption(arch.softCapsLogits()
                        ? String.format("Identity: the components sum to %s (harmful) and %s (harmless); the model's logit metric (logit of the refusal token - mean of the others)"
                                + " before the final soft-cap is %s and %s; after it (what the model outputs, bounded by the cap %s) %s and %s.",
                                Stats.fmt(sumHarmful), Stats.fmt(sumHarmless), Stats.fmt(harmful.linearMetric()), Stats.fmt(harmless.linearMetric()),
                                Stats.fmt(arch.finalLogitSoftcap()), Stats.fmt(harmful.metric()), Stats.fmt(harmless.metric()))
                        : String.format("Identity: the components sum to %s (harmful) and %s (harmless); the model's logit metric (logit of the refusal token - mean of the others) is %s and %s.",
                        Stats.fmt(sumHarmful), Stats.fmt(sumHarmless), Stats.fmt(harmful.metric()), Stats.fmt(harmless.metric())))
                .provenance(compProv).build();
        return new AnalysisResult("Direct logit attribution of " + metricText + " (" + pText + ") through the layers and components, harmful vs harmless prompts.",
                List.of(absolute, difference, components, headFig), List.of(table), findings(harmful, harmless, diff, n));
    }

    static final Rule EARLY = Rule.atLeast("looks early = at least half of the final absolute DLA is there after the early third (PARTLY: a quarter)", 0.5).partly(0.25);
    static final Rule LATE = Rule.atLeast("boost = the final difference is positive and at least half of it is added from L12 on (share read as -1 when "
            + "the final difference is not positive; PARTLY: any positive share)", 0.5).partly(Double.MIN_VALUE);
    static final Rule REDUCES = Rule.below("reduces = MLP-14's DLA difference is negative (PARTLY: only another late MLP's, the second measure)", 0);

    static Rule many(int blocks) {
        return Rule.atLeast("many = at least a quarter of the attention/MLP blocks (and at least 3) write 10 % of the largest block's |DLA difference| "
                + "(PARTLY: 2)", Math.max(3, Math.ceil(blocks / 4.0))).partly(2);
    }

    static double lateMeasure(double finalDiff, double lateShare) {
        return finalDiff > 0 ? lateShare : -1;
    }

    static List<Finding> findings(SetDla harmful, SetDla harmless, SetDla diff, int n) {
        String note = Verdicts.layerRule(n, 6, 12, 14);
        int l6 = LayerGroups.scaled(6, n), l12 = LayerGroups.scaled(12, n), l14 = Math.min(n - 1, LayerGroups.scaled(14, n));
        double[] absolute = new double[n + 1];
        for (int i = 0; i <= n; i++) absolute[i] = (harmful.lens()[i] + harmless.lens()[i]) / 2;
        double early = earlyShare(absolute, l6);
        double late = lateShare(diff.lens(), l12);
        double[] blocks = new double[2 * n];
        System.arraycopy(diff.components(), 1, blocks, 0, 2 * n);
        int writers = writers(blocks);
        double mlp14 = diff.components()[2 + 2 * l14];
        double smallestLate = Double.POSITIVE_INFINITY;
        int negativeLateMlps = 0;
        for (int l = l12; l < n; l++) {
            smallestLate = Math.min(smallestLate, diff.components()[2 + 2 * l]);
            if (diff.components()[2 + 2 * l] < 0) negativeLateMlps++;
        }
        return List.of(
                Finding.judge("The absolute DLA looks early: most of the metric seems computed in the early layers (the grammatical effect).", EARLY, false,
                        (note + String.format(java.util.Locale.ROOT, " Mean absolute DLA after L%d is %s of the final %s.", l6 - 1, Stats.fmt(absolute[l6]),
                                Stats.fmt(absolute[n]))).trim(), Measure.of("share of the final absolute DLA after L" + (l6 - 1), early, "mean of harmful and harmless")),
                Finding.judge("The later layers (after L12) differentially boost the pullback direction on harmful instructions.", LATE, false,
                        (note + String.format(java.util.Locale.ROOT, " DLA harmful - harmless: %s entering L%d, %s after the last layer.",
                                Stats.fmt(diff.lens()[l12]), l12, Stats.fmt(diff.lens()[n]))).trim(),
                        Measure.of("late share of the final difference", lateMeasure(diff.lens()[n], late), "harmful - harmless")),
                Finding.judge("Many components write to the pullback direction.", many(2 * n), false, "",
                        Measure.of("blocks writing >= 10 % of the largest |DLA difference|", writers, "of " + 2 * n + " attention/MLP blocks")),
                Finding.judge("MLP-14 reduces the pullback direction.", REDUCES, false,
                        (note + " Late MLPs (L" + l12 + "+) with a negative difference: " + negativeLateMlps + ".").trim(),
                        Measure.of("L" + l14 + " MLP DLA difference", mlp14, "harmful - harmless"),
                        Measure.of("smallest late MLP DLA difference (L" + l12 + "+)", smallestLate, "harmful - harmless")));
    }

    /** Share of the final absolute DLA reached at lens index {@code at} (the residual entering layer {@code at}). */
    static double earlyShare(double[] absolute, int at) {
        double fin = absolute[absolute.length - 1];
        return fin == 0 ? 0 : absolute[at] / fin;
    }

    static Finding.Verdict earlyVerdict(double share) {
        return EARLY.judge(Measure.of("share", share, ""));
    }

    /** Share of the final difference added from layer {@code from} on: (D[n] - D[from]) / |D[n]|. */
    static double lateShare(double[] diffLens, int from) {
        double fin = diffLens[diffLens.length - 1];
        return fin == 0 ? 0 : (fin - diffLens[from]) / Math.abs(fin);
    }

    static Finding.Verdict lateVerdict(double finalDiff, double lateShare) {
        return LATE.judge(Measure.of("late share", lateMeasure(finalDiff, lateShare), ""));
    }

    /** Blocks whose |difference| is at least 10 % of the largest |difference|. */
    static int writers(double[] blocks) {
        double max = 0;
        for (double b : blocks) max = Math.max(max, Math.abs(b));
        int count = 0;
        for (double b : blocks) if (max > 0 && Math.abs(b) >= 0.1 * max) count++;
        return count;
    }

    static Finding.Verdict manyVerdict(int writers, int blocks) {
        return many(blocks).judge(Measure.of("writers", writers, ""));
    }

    /** The two measures of the REDUCES rule: MLP-14's difference, and the smallest late MLP difference (negative if any late one is). */
    static Finding.Verdict reducesVerdict(double mlp14, int negativeLateMlps) {
        return REDUCES.judge(List.of(Measure.of("mlp14", mlp14, ""), Measure.of("smallest late", negativeLateMlps > 0 ? -1 : Math.max(mlp14, 0), "")), false);
    }
}
