package org.refusallab.analysis.generations;

import java.util.ArrayList;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Provenance;
import org.refusallab.api.result.Table;
import org.refusallab.api.study.Ablation;
import org.refusallab.api.study.Completion;
import org.refusallab.api.study.DirectionCandidate;
import org.refusallab.api.study.RefusalDirection;
import org.refusallab.api.study.Stats;
import org.refusallab.api.study.Study;
import org.refusallab.api.study.StudyParameters;
import org.refusallab.api.study.StudyService;
import org.refusallab.api.study.Verdicts;

/**
 * The seed's sanity check and Appendix B: greedy completions of the baseline and the intervened (refusal direction
 * ablated everywhere) model for the paired prompts and the held-out pairs, with refusal flags and rates.
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = Generations.ID, title = "Baseline and intervened generations", order = 10, parameters = StudyParameters.class)
public final class Generations implements Analysis {

    public static final String ID = "generations";

    private final StudyService studies;

    @Activate
    public Generations(@Reference StudyService studies) {
        this.studies = studies;
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        RefusalDirection dir = study.direction();
        List<Completion> completions = study.generations();
        // what every table and figure here was computed from: greedy decoding with and without directional ablation
        Provenance provenance = Provenance.builder().ran(Ablation.directional(study.nLayers(), dir.values()))
                .direction(dir.provenance()).build();

        List<List<String>> rows = new ArrayList<>();
        for (Completion c : completions) {
            rows.add(List.of(c.set(), c.harmful() ? "harmful" : "harmless", c.instruction(), c.baseline(),
                    Completion.flag(c.baselineRefusal()), c.intervened(), Completion.flag(c.intervenedRefusal())));
        }
        Table table = Table.of("completions-table").title("Greedy completions (" + study.parameters().maxNewTokens() + " new tokens at most)")
                .columns("set", "kind", "instruction", "baseline completion", "baseline refusal", "intervened completion", "intervened refusal")
                .rows(rows).caption("Refusal = at least one of the seed's Appendix A substrings in the completion. Intervened = the refusal "
                        + "direction projected out of every hook_resid_pre, hook_attn_out and hook_mlp_out at every position.")
                .provenance(provenance).build();

        // refusal rates per set, kind and model
        List<String> sets = completions.stream().map(Completion::set).distinct().toList();
        List<String> conditions = List.of("harmful / baseline", "harmful / intervened", "harmless / baseline", "harmless / intervened");
        Figure.Builder fig = Figure.bar("refusal-rates").title("Refusal rate by instruction kind and model")
                .x("instructions / model", conditions).y("refusal rate", "fraction")
                .caption("Substring refusal score of greedy completions, per prompt set.").provenance(provenance);
        List<List<String>> rateRows = new ArrayList<>();
        double[] all = rates(completions, null);
        for (String set : sets) {
            double[] r = rates(completions, set);
            // a set without harmful or without harmless prompts has undefined rates: table only (n/a)
            if (!Double.isNaN(r[0]) && !Double.isNaN(r[2])) fig.series(set, r);
            rateRows.add(List.of(set, Stats.fmt(r[0]), Stats.fmt(r[1]), Stats.fmt(r[2]), Stats.fmt(r[3])));
        }
        rateRows.add(List.of("all", Stats.fmt(all[0]), Stats.fmt(all[1]), Stats.fmt(all[2]), Stats.fmt(all[3])));
        Table rates = Table.of("refusal-rates-table").title("Refusal rates")
                .columns("set", "harmful baseline", "harmful intervened", "harmless baseline", "harmless intervened")
                .rows(rateRows).caption("Fraction of completions scored as refusals.").provenance(provenance).build();

        List<Table> tables = new ArrayList<>(List.of(table, rates));
        List<DirectionCandidate> candidates = study.directionCandidates();
        if (!candidates.isEmpty()) tables.add(candidateTable(candidates, dir));

        List<Finding> findings = List.of(
                new Finding("The baseline model refuses the harmful instructions while accepting the harmless instructions.",
                        String.format("baseline refusal rate %s on harmful, %s on harmless (%d prompts each)",
                                Stats.fmt(all[0]), Stats.fmt(all[2]), completions.size() / 2),
                        Verdicts.of(all[0] == 1 && all[2] == 0, all[0] > all[2])),
                new Finding("The intervened model accepts both harmful and harmless instructions.",
                        String.format("intervened refusal rate %s on harmful (baseline %s), %s on harmless",
                                Stats.fmt(all[1]), Stats.fmt(all[0]), Stats.fmt(all[3])),
                        Verdicts.of(all[1] == 0 && all[3] == 0, all[1] < all[0])));

        String summary = String.format("Refusal direction: layer %d, position %d, norm %.3f (%s). %d prompts, greedy decoding.",
                dir.layer(), dir.position(), dir.norm(), dir.source(), completions.size());
        return new AnalysisResult(summary, List.of(fig.build()), tables, findings);
    }

    /** harmful baseline, harmful intervened, harmless baseline, harmless intervened refusal rates of a set (null = all). */
    static double[] rates(List<Completion> cs, String set) {
        double[] sum = new double[4];
        int[] n = new int[4];
        for (Completion c : cs) {
            if (set != null && !set.equals(c.set())) continue;
            int o = c.harmful() ? 0 : 2;
            sum[o] += c.baselineRefusal() ? 1 : 0;
            sum[o + 1] += c.intervenedRefusal() ? 1 : 0;
            n[o]++;
            n[o + 1]++;
        }
        for (int i = 0; i < 4; i++) sum[i] = n[i] == 0 ? Double.NaN : sum[i] / n[i];
        return sum;
    }

    private static Table candidateTable(List<DirectionCandidate> cs, RefusalDirection dir) {
        List<List<String>> rows = new ArrayList<>();
        for (DirectionCandidate c : cs) {
            rows.add(List.of(Integer.toString(c.layer()), Integer.toString(c.position()), Stats.fmt(c.bypass()), Stats.fmt(c.induce()),
                    Stats.fmt(c.kl()), c.prunedLayer() ? "pruned layer" : c.passes() ? "yes" : "no"));
        }
        return Table.of("direction-candidates").title("Refusal direction candidates (selection as in 2406.11717)")
                .columns("layer", "position", "bypass score", "induce score", "KL (harmless)", "passes").rows(rows)
                .caption("bypass: mean selection metric on harmful prompts under directional ablation (lower is better); induce: on harmless "
                        + "prompts with the direction added at that layer (must be > 0); KL of the last-position distribution on harmless "
                        + "prompts under ablation (must be under the bound). n/a: not scored (pruned layer or all-zero difference).")
                .provenance(Provenance.builder().read("blocks.*.hook_resid_pre").direction(dir.provenance()).build()).build();
    }
}
