package org.refusallab.analysis.blockcontributions;

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
import org.refusallab.study.PromptPair;
import org.refusallab.study.Stats;
import org.refusallab.study.Study;
import org.refusallab.study.Verdicts;

/**
 * The seed's "Quantifying Per-Block Contributions": what each block writes along the unit refusal direction at the
 * last position, mean over harmful minus mean over harmless prompts (the seed's text plots harmless - harmful; the
 * sign used is stated on the figure and configurable with {@code sign}).
 */
@Component(service = Analysis.class)
public final class BlockContributions implements Analysis {

    public static final String ID = "block-contributions";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String title() {
        return "Per-block contributions to the refusal component";
    }

    @Override
    public int order() {
        return 40;
    }

    @Override
    public Map<String, String> parameters() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("sign", "harmful-minus-harmless");
        p.put("includeHeldOut", "true");
        return p;
    }

    /**
     * [0] attention, [1] MLP: mean over harmful minus mean over harmless of (block output . r/|r|) at the last
     * position, per layer; [2][0] the same difference for the last resid_post and [2][1] for L0 resid_pre.
     */
    public static double[][] contributions(Study study, List<PromptPair> pairs) {
        int n = study.nLayers();
        float[] unit = study.direction().unit();
        Set<String> hooks = Set.of("blocks.*.hook_attn_out", "blocks.*.hook_mlp_out", Interventions.residPost(n - 1), Interventions.residPre(0));
        Batches b = study.batches();
        double[][] out = new double[3][n];
        // harmful prompts then harmless ones, cached in the same forwards
        List<String> all = new ArrayList<>(pairs.stream().map(PromptPair::harmful).toList());
        all.addAll(pairs.stream().map(PromptPair::harmless).toList());
        var acts = b.cache(study.chat(all), hooks, List.of());
        for (int kind = 0; kind < 2; kind++) {
            double sign = kind == 0 ? 1 : -1;
            int offset = kind == 0 ? 0 : pairs.size();
            for (int i = 0; i < pairs.size(); i++) {
                int r = offset + i;
                for (int l = 0; l < n; l++) {
                    out[0][l] += sign * Stats.dot(acts.at(Interventions.attnOut(l), r, -1), unit) / pairs.size();
                    out[1][l] += sign * Stats.dot(acts.at(Interventions.mlpOut(l), r, -1), unit) / pairs.size();
                }
                out[2][0] += sign * Stats.dot(acts.at(Interventions.residPost(n - 1), r, -1), unit) / pairs.size();
                out[2][1] += sign * Stats.dot(acts.at(Interventions.residPre(0), r, -1), unit) / pairs.size();
            }
        }
        return out;
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = Study.of(context, ID);
        String signSpec = study.param("sign", "harmful-minus-harmless");
        double sign = switch (signSpec) {
            case "harmful-minus-harmless" -> 1;
            case "harmless-minus-harmful" -> -1;
            default -> throw new IllegalArgumentException("parameter sign of " + ID + " is '" + signSpec + "': use harmful-minus-harmless or harmless-minus-harmful");
        };
        List<PromptPair> pairs = new ArrayList<>(study.pairs());
        if (Boolean.parseBoolean(study.param("includeHeldOut", "true"))) pairs.addAll(study.heldOutPairs());
        int n = study.nLayers();
        double[][] c = contributions(study, pairs);
        double[] attn = c[0].clone(), mlp = c[1].clone();
        for (int l = 0; l < n; l++) { attn[l] *= sign; mlp[l] *= sign; }
        List<String> xs = new ArrayList<>();
        for (int l = 0; l < n; l++) xs.add("L" + l);
        String signText = sign > 0 ? "harmful - harmless" : "harmless - harmful";
        Figure fig = new Figure("block-contributions", "Refusal component written by each block (" + signText + ")", Figure.Kind.BAR,
                "layer", "(" + signText + ") component along r/|r|", "residual units", xs, null,
                List.of(Figure.Series.of("attention (hook_attn_out)", attn), Figure.Series.of("MLP (hook_mlp_out)", mlp)), null,
                "Sign convention: mean over " + (sign > 0 ? "harmful minus mean over harmless" : "harmless minus mean over harmful")
                + " prompts of block output . r/|r| at the last position (" + pairs.size() + " pairs). Positive "
                + (sign > 0 ? "= the block writes more refusal on harmful prompts." : "= the block writes more refusal on harmless prompts (the seed's plot)."));

        // the residual stream is the sum of the embedding and every block's output: the bars must add up
        double total = c[2][1];
        for (int l = 0; l < n; l++) total += c[0][l] + c[1][l];
        List<List<String>> rows = new ArrayList<>();
        for (int l = 0; l < n; l++) rows.add(List.of("L" + l, Stats.fmt(c[0][l]), Stats.fmt(c[1][l])));
        Table table = new Table("block-contributions-table", "Per-block differences (harmful - harmless)", List.of("layer", "attention", "MLP"), rows,
                String.format("Check: L0 resid_pre difference %s + all blocks = %s; last resid_post difference %s.",
                        Stats.fmt(c[2][1]), Stats.fmt(total), Stats.fmt(c[2][0])));
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
