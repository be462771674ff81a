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
        double[][] out = new double[3][n];
        for (int i = 0; i < res.size(); i++) {
            double w = (i < pairs.size() ? 1.0 : -1.0) / pairs.size();
            Map<String, Tensor> last = new HashMap<>();
            for (int h = 0; h < hooks.size(); h++) last.put(hooks.get(h), res.get(i).activation(h)); // [1, d_model]
            ActivationCache cache = new ActivationCache(last, n);
            double[] parts = cache.decompose(n, -1).project(r); // embed, L0 attn, L0 mlp, ...
            for (int l = 0; l < n; l++) {
                out[0][l] += w * parts[1 + 2 * l];
                out[1][l] += w * parts[2 + 2 * l];
            }
            out[2][0] += w * Stats.dot(cache.at(Hooks.residPost(n - 1), -1), study.direction().unit());
            out[2][1] += w * parts[0];
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
        double[][] c = contributions(study, pairs);
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
                List.of(fig), List.of(table), findings(c[0], c[1], n));
    }

    /** Findings on harmful - harmless differences. */
    static List<Finding> findings(double[] attn, double[] mlp, int n) {
        String note = Verdicts.layerNote(n);
        int l3 = LayerGroups.scaled(3, n), l6 = LayerGroups.scaled(6, n), l8 = LayerGroups.scaled(8, n), l12 = LayerGroups.scaled(12, n);
        double positive = 0, mlpMid = 0, attnEarly = 0;
        for (int l = 0; l < n; l++) positive += Math.max(0, attn[l]) + Math.max(0, mlp[l]);
        for (int l = l6; l < l12; l++) mlpMid += mlp[l];
        for (int l = l3; l < l8; l++) attnEarly += attn[l];
        List<String> negative = new ArrayList<>();
        for (int l = 0; l < n; l++) if (attn[l] < 0) negative.add("L" + l);
        double share = positive == 0 ? 0 : mlpMid / positive;
        return List.of(
                new Finding("MLPs between L6 and L12 write a large amount of the refusal component (differentially on harmful vs harmless)" + note + ".",
                        String.format("MLPs L%d-L%d write %s, %s of all positive block differences", l6, l12 - 1, Stats.fmt(mlpMid), Stats.fmt(share)),
                        Verdicts.of(share >= 0.5, share >= 0.25)),
                new Finding("Attention between L3 and L8 plays a minor role in writing the refusal component" + note + ".",
                        String.format("attention L%d-L%d writes %s (MLPs L%d-L%d: %s)", l3, l8 - 1, Stats.fmt(attnEarly), l6, l12 - 1, Stats.fmt(mlpMid)),
                        Verdicts.of(attnEarly > 0 && attnEarly < mlpMid, attnEarly > 0)),
                new Finding("Some attention blocks (L8, L11, L12 in gemma-2b-it) reduce the refusal component.",
                        "attention blocks with a negative difference: " + (negative.isEmpty() ? "none" : String.join(", ", negative)),
                        Verdicts.of(!negative.isEmpty(), false)));
    }
}
