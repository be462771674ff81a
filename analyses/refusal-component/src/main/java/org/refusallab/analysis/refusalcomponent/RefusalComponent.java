package org.refusallab.analysis.refusalcomponent;

import java.util.ArrayList;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Describe;
import org.refusallab.api.model.Hooks;
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
 * The seed's "Quantifying the Refusal Component": the component of the residual stream along the unit refusal
 * direction at the last position, per layer ({@code blocks.L.hook_resid_pre}, then the last block's
 * {@code hook_resid_post}), mean over harmful and over harmless prompts.
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = RefusalComponent.ID, title = "The refusal component of the residual stream", order = 30,
        parameters = {RefusalComponent.Params.class, StudyParameters.class})
public final class RefusalComponent implements Analysis {

    public static final String ID = "refusal-component";

    @interface Params {
        @Describe("add the held-out pairs (study.heldOutPairs) to the seed's pairs")
        boolean includeHeldOut() default true;
    }

    private final StudyService studies;

    @Activate
    public RefusalComponent(@Reference StudyService studies) {
        this.studies = studies;
    }

    /** The residual points read: blocks.L.hook_resid_pre of every layer, then the last block's hook_resid_post. */
    static List<String> hooks(int n) {
        List<String> hooks = new ArrayList<>();
        for (int l = 0; l < n; l++) hooks.add(Hooks.residPre(l));
        hooks.add(Hooks.residPost(n - 1));
        return hooks;
    }

    /** Mean component per residual point (n resid_pre then the last resid_post): [0] harmful, [1] harmless. */
    public static double[][] components(Study study, List<PromptPair> pairs) {
        int n = study.nLayers();
        float[] unit = study.direction().unit();
        List<String> hooks = hooks(n);
        // harmful prompts then harmless ones, in the same sweep; x . r/|r| at the last position of each residual point
        List<String> all = new ArrayList<>(pairs.stream().map(PromptPair::harmful).toList());
        all.addAll(pairs.stream().map(PromptPair::harmless).toList());
        List<Row> rows = new ArrayList<>();
        for (int[] t : study.chat(all)) {
            Row r = Row.of(t);
            for (String h : hooks) r = r.reading(ReadOut.projection(h, new int[] {-1}, unit));
            rows.add(r);
        }
        List<RowResult> res = study.sweep(rows);
        double[][] out = new double[2][n + 1];
        for (int kind = 0; kind < 2; kind++) {
            int offset = kind == 0 ? 0 : pairs.size();
            for (int i = 0; i < pairs.size(); i++) {
                for (int l = 0; l <= n; l++) out[kind][l] += res.get(offset + i).projection(l)[0][0] / pairs.size();
            }
        }
        return out;
    }

    public static List<String> labels(int n) {
        List<String> xs = new ArrayList<>();
        for (int l = 0; l < n; l++) xs.add("L" + l + " resid_pre");
        xs.add("L" + (n - 1) + " resid_post");
        return xs;
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Params params = context.parameters(Params.class);
        List<PromptPair> pairs = study.pairs(params.includeHeldOut());
        Provenance provenance = Provenance.builder().read(hooks(study.nLayers())).direction(study.direction().provenance()).build();
        int n = study.nLayers();
        double[][] c = components(study, pairs);
        double[] gap = new double[n + 1];
        for (int l = 0; l <= n; l++) gap[l] = c[0][l] - c[1][l];

        Figure fig = Figure.line("refusal-component").title("Refusal component at the last position by layer")
                .x("residual stream point", labels(n)).y("component along the unit refusal direction", "residual units")
                .series("harmful", c[0]).series("harmless", c[1]).series("harmful - harmless", gap)
                .caption("x . r / |r| at the last token, mean over " + pairs.size() + " prompts of each kind; r = the refusal direction (layer "
                        + study.direction().layer() + ", position " + study.direction().position() + ").")
                .provenance(provenance).build();
        List<List<String>> rows = new ArrayList<>();
        for (int l = 0; l <= n; l++) rows.add(List.of(labels(n).get(l), Stats.fmt(c[0][l]), Stats.fmt(c[1][l]), Stats.fmt(gap[l])));
        Table table = Table.of("refusal-component-table").title("Refusal component by layer")
                .columns("hook", "harmful", "harmless", "harmful - harmless").rows(rows).provenance(provenance).build();
        return new AnalysisResult("Projection of the residual stream on the refusal direction at the last position, harmful vs harmless.",
                List.of(fig), List.of(table), findings(gap, n));
    }

    static List<Finding> findings(double[] gap, int n) {
        int a = LayerGroups.scaled(3, n), b = LayerGroups.scaled(12, n);
        double maxAbs = 0;
        for (double g : gap) maxAbs = Math.max(maxAbs, Math.abs(g));
        double early = 0;
        for (int l = 0; l <= a && l < gap.length; l++) early = Math.max(early, Math.abs(gap[l]));
        int steps = 0, up = 0;
        for (int l = a; l < b && l + 1 < gap.length; l++) {
            steps++;
            if (gap[l + 1] > gap[l]) up++;
        }
        double gapB = gap[Math.min(b, n)], after = gap[n] - gapB;
        String note = Verdicts.layerNote(n);
        double earlyRel = maxAbs == 0 ? 0 : early / maxAbs;
        return List.of(
                new Finding("The refusal component is identical for harmful and harmless instructions up to L3" + note + ".",
                        String.format("largest |gap| up to L%d is %s of the largest gap anywhere", a, Stats.fmt(earlyRel)),
                        Verdicts.of(earlyRel < 0.05, earlyRel < 0.2)),
                new Finding("The gap in the refusal component grows steadily between L3 and L12" + note + ".",
                        String.format("gap L%d %s -> L%d %s; it grows in %d of %d steps", a, Stats.fmt(gap[a]), b, Stats.fmt(gapB), up, steps),
                        Verdicts.of(gapB > gap[a] && up >= 0.8 * steps, gapB > gap[a])),
                new Finding("After L12 the trend is basically the same: the direction is not computed afterwards" + note + ".",
                        String.format("gap changes by %s after L%d (gap there %s, %s of it)", Stats.fmt(after), b, Stats.fmt(gapB),
                                Stats.fmt(gapB == 0 ? Double.NaN : Math.abs(after / gapB))),
                        gapB == 0 ? Finding.Verdict.DISAGREES : Verdicts.of(Math.abs(after / gapB) < 0.25, Math.abs(after / gapB) < 0.5)));
    }
}
