package org.refusallab.analysis.headclasses;

import java.util.ArrayList;
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
import org.refusallab.api.model.Tensor;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Measure;
import org.refusallab.api.result.Rule;
import org.refusallab.api.result.Provenance;
import org.refusallab.api.result.Table;
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

/**
 * The seed's "Identifying 'Classes' of Heads": BOS, direct and diagonal scores of every middle-layer head from
 * {@code attn.hook_pattern} on the pairs, the classes at the threshold, and one example pattern per class. The
 * classes themselves come from {@link Study#headClasses()} (computed once per run, shared with direct-head).
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = HeadClassesAnalysis.ID, title = "Classes of middle-layer attention heads", order = 80,
        parameters = {HeadClassesAnalysis.Params.class, HeadClassParameters.class, StudyParameters.class})
public final class HeadClassesAnalysis implements Analysis {

    public static final String ID = "head-classes";

    /** The seed's counts: 8 direct and 5 diagonal of 48 heads (L6-L12 of gemma-2b-it, 8 heads each). */
    static final double SEED_DIRECT_SHARE = 8 / 48.0, SEED_DIAGONAL_SHARE = 5 / 48.0;

    @interface Params {
        @Describe("index of the pair whose harmful prompt shows the example patterns")
        int examplePair() default 0;
    }

    private final StudyService studies;

    @Activate
    public HeadClassesAnalysis(@Reference StudyService studies) {
        this.studies = studies;
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Params params = context.parameters(Params.class);
        List<PairTokens> pairs = study.pairTokens();
        if (params.examplePair() < 0 || params.examplePair() >= pairs.size()) {
            throw new IllegalArgumentException("analysis " + ID + ": parameter examplePair = " + params.examplePair() + " is not a pair index (0-" + (pairs.size() - 1) + ")");
        }
        HeadClasses hc = study.headClasses();
        List<String> layers = new ArrayList<>(), heads = new ArrayList<>();
        for (int l = hc.fromLayer(); l < hc.toLayer(); l++) layers.add("L" + l);
        for (int h = 0; h < hc.nHeads(); h++) heads.add("H" + h);
        List<String> read = new ArrayList<>();
        for (int l = hc.fromLayer(); l < hc.toLayer(); l++) read.add(Hooks.attnPattern(l));
        Provenance prov = Provenance.builder().read(read).build();
        String averaged = "mean over " + hc.promptCount() + " prompts (" + hc.prompts() + " sides of the pairs)";

        List<Figure> figs = new ArrayList<>();
        figs.add(heat("bos-score", "BOS score: attention to the BOS key", hc.bos(), layers, heads, prov,
                "Mean over queries 1..n-1 of the attention to the first real position (BOS), " + averaged + ". BOS class at >= " + Stats.fmt(hc.bosThreshold()) + "."));
        figs.add(heat("direct-score", "Direct score: last query -> subject key", hc.direct(), layers, heads, prov,
                "pattern[last, subject], " + averaged + ". Direct at >= " + Stats.fmt(hc.threshold()) + "."));
        figs.add(heat("diagonal-score", "Diagonal score: query -> previous key (" + hc.diagonalReading() + ")", hc.diagonal(), layers, heads, prov,
                (hc.diagonalReading().equals("mean") ? "Mean" : "Sum") + " over queries 1..n-1 of pattern[q, q-1], " + averaged
                        + ". Diagonal at >= " + Stats.fmt(hc.threshold()) + " (when not direct)."));
        figs.addAll(examples(study, hc, pairs.get(params.examplePair())));

        Table.Builder table = Table.of("head-classes-table").title("Class of every head " + hc.rangeLabel())
                .columns("head", "layer", "index", "BOS score", "direct score", "diagonal score (" + hc.diagonalReading() + ")", "class");
        for (Head h : hc.heads()) {
            table.row(h.label(), Integer.toString(h.layer()), Integer.toString(h.head()), Stats.fmt(hc.bos(h)), Stats.fmt(hc.direct(h)),
                    Stats.fmt(hc.diagonal(h)), hc.kind(h.layer(), h.head()).name().toLowerCase());
        }
        table.caption("Rule, in order: direct if direct >= " + Stats.fmt(hc.threshold()) + "; diagonal if diagonal >= " + Stats.fmt(hc.threshold())
                + "; BOS if BOS >= " + Stats.fmt(hc.bosThreshold()) + "; else other.").provenance(prov);
        Table counts = Table.of("head-class-counts").title("Heads per class").columns("class", "heads", "share", "seed (of 48)", "which")
                .rows(countRows(hc)).provenance(prov).build();
        return new AnalysisResult("Attention patterns of the " + hc.heads().size() + " heads of " + hc.rangeLabel() + ": "
                + hc.heads(Kind.DIRECT).size() + " direct, " + hc.heads(Kind.DIAGONAL).size() + " diagonal, " + hc.heads(Kind.BOS).size() + " BOS.",
                figs, List.of(table.build(), counts), findings(hc, otherReading(context, hc), study.nLayers()));
    }

    private static List<List<String>> countRows(HeadClasses hc) {
        List<List<String>> rows = new ArrayList<>();
        int n = hc.heads().size();
        String[] seed = {"8", "5", "(not counted)", "(not counted)"};
        for (Kind k : Kind.values()) {
            List<Head> hs = hc.heads(k);
            rows.add(List.of(k.name().toLowerCase(), Integer.toString(hs.size()), Stats.fmt(hs.size() / (double) n), seed[k.ordinal()],
                    String.join(" ", hs.stream().map(Head::label).toList())));
        }
        return rows;
    }

    private static Figure heat(String id, String title, double[][] cells, List<String> layers, List<String> heads, Provenance prov, String caption) {
        return Figure.heatmap(id).title(title).x("head", heads).y("layer", "attention weight").rows(layers).cells(title, cells)
                .caption(caption).provenance(prov).build();
    }

    /** The pattern (harmful prompt of one pair) of the highest-scoring head of each non-empty class. */
    private static List<Figure> examples(Study study, HeadClasses hc, PairTokens pair) {
        List<Head> chosen = new ArrayList<>();
        List<Kind> kinds = new ArrayList<>();
        for (Kind k : Kind.values()) {
            Head best = null;
            for (Head h : hc.heads(k)) {
                if (best == null || score(hc, k, h) > score(hc, k, best)) best = h;
            }
            if (best != null) { chosen.add(best); kinds.add(k); }
        }
        if (chosen.isEmpty()) return List.of();
        Row row = Row.of(pair.harmful());
        for (Head h : chosen) row = row.reading(ReadOut.activationAll(Hooks.attnPattern(h.layer())));
        var res = study.sweep(List.of(row)).get(0);
        List<String> labels = pair.positionLabels(study.tokenizer());
        List<Figure> out = new ArrayList<>();
        for (int i = 0; i < chosen.size(); i++) {
            Head h = chosen.get(i);
            Tensor t = res.activation(i);  // [query, head, key]
            int n = pair.length();
            double[][] cells = new double[n][n];
            for (int q = 0; q < n; q++) {
                for (int k = 0; k < n; k++) cells[q][k] = t.get(q, h.head(), k);
            }
            String kind = kinds.get(i).name().toLowerCase();
            out.add(Figure.heatmap("example-" + kind).title("Example " + kind + " head " + h.label() + ": '" + pair.pair().harmful() + "'")
                    .x("key (token)", labels).y("query (token)", "attention weight").rows(labels).cells("pattern", cells)
                    .caption("attn.hook_pattern of " + h.label() + " (the " + kind + " head with the highest " + (kinds.get(i) == Kind.OTHER ? "direct" : kind)
                            + " score) on the harmful prompt of pair '" + pair.pair().harmful() + "'; rows are queries, columns keys.")
                    .provenance(Provenance.builder().read(List.of(Hooks.attnPattern(h.layer()))).build()).build());
        }
        return out;
    }

    private static double score(HeadClasses hc, Kind k, Head h) {
        return switch (k) {
            case DIRECT, OTHER -> hc.direct(h);
            case DIAGONAL -> hc.diagonal(h);
            case BOS -> hc.bos(h);
        };
    }

    /** How far a class's share is from the seed's, as a factor >= 1 (the largest double when the class is empty). */
    static double factorOff(int count, int heads, double seedShare) {
        if (count == 0) return Double.MAX_VALUE;
        double ratio = count / (double) heads / seedShare;
        return Math.max(ratio, 1 / ratio);
    }

    /** A class count against the seed's share of 48 heads: AGREES within a factor of 2, PARTLY non-empty, DISAGREES empty. */
    static final Rule COUNT = Rule.atMost("as many = the class's share of the heads is within a factor of 2 of the seed's (factor <= 2); "
            + "a non-empty class outside it is PARTLY (weaker bound 1e300, the largest double marks an empty class)", 2).partly(1e300);

    /** The BOS class: AGREES with at least one BOS head, DISAGREES with none. */
    static final Rule BOS = Rule.atLeast("some = at least one head", 1);

    static Finding.Verdict countVerdict(int count, int heads, double seedShare) {
        return COUNT.judge(Measure.of("factor", factorOff(count, heads, seedShare), ""));
    }

    static Finding.Verdict bosVerdict(int count) {
        return BOS.judge(Measure.of("BOS heads", count, ""));
    }

    /**
     * The classes under the other reading of the seed's diagonal score ("the sum of the diagonal entries": mean or
     * sum over queries), from the study with only that parameter changed (computed once per run like the first).
     */
    HeadClasses otherReading(AnalysisContext context, HeadClasses hc) {
        String other = hc.diagonalReading().equals("mean") ? "sum" : "mean";
        Map<String, String> params = new java.util.HashMap<>(context.parameters());
        params.put(HeadClassParameters.PREFIX_ + "diagonal", other);
        AnalysisContext changed = new AnalysisContext() {
            @Override public String analysisId() { return context.analysisId(); }
            @Override public org.refusallab.api.model.HookedModel model() { return context.model(); }
            @Override public Map<String, String> parameters() { return params; }
            @Override public java.nio.file.Path configDirectory() { return context.configDirectory(); }
            @Override public <T> T shared(String key, Class<T> type, java.util.function.Supplier<T> compute) { return context.shared(key, type, compute); }
            @Override public org.refusallab.api.analysis.Progress progress() { return context.progress(); }
            @Override public boolean cancelled() { return context.cancelled(); }
        };
        return studies.open(changed).headClasses();
    }

    static List<Finding> findings(HeadClasses hc, int nLayers) {
        return findings(hc, null, nLayers);
    }

    /** The findings; the diagonal claim under both readings when {@code other} (the other reading's classes) is given. */
    static List<Finding> findings(HeadClasses hc, HeadClasses other, int nLayers) {
        List<Finding> base = findingsOf(hc, nLayers);
        if (other == null) return base;
        Finding otherDiagonal = findingsOf(other, nLayers).get(1);
        List<Finding> diag = Finding.readings(List.of(base.get(1), otherDiagonal));
        return List.of(base.get(0), diag.get(0), diag.get(1), base.get(2));
    }

    static List<Finding> findingsOf(HeadClasses hc, int nLayers) {
        int n = hc.heads().size(), direct = hc.heads(Kind.DIRECT).size(), diagonal = hc.heads(Kind.DIAGONAL).size(), bos = hc.heads(Kind.BOS).size();
        String note = (Verdicts.layerRule(nLayers, 6, 12) + " Heads in " + hc.rangeLabel() + ".").trim();
        return List.of(
                Finding.judge("8 of the 48 heads in L6-L12 are direct heads (score >= 0.2).", COUNT, false,
                        String.format(java.util.Locale.ROOT, "%s %d of %d heads are direct (share %s, seed %s).", note, direct, n,
                                Stats.fmt(direct / (double) n), Stats.fmt(SEED_DIRECT_SHARE)),
                        Measure.of("factor off the seed's direct share", factorOff(direct, n, SEED_DIRECT_SHARE), direct + " of " + n + " heads")),
                Finding.judge("5 of the 48 heads in L6-L12 are diagonal heads (score >= 0.2).", COUNT, false,
                        String.format(java.util.Locale.ROOT, "%s %d of %d heads are diagonal (share %s, seed %s).", note, diagonal, n,
                                Stats.fmt(diagonal / (double) n), Stats.fmt(SEED_DIAGONAL_SHARE)),
                        Measure.of("factor off the seed's diagonal share", factorOff(diagonal, n, SEED_DIAGONAL_SHARE), diagonal + " of " + n + " heads"))
                        .reading("diagonal score: " + hc.diagonalReading()),
                Finding.judge("Some heads are 'BOS' heads: queries mostly attend to BOS (inactive), e.g. L6H1.", BOS, false,
                        "BOS score >= " + Stats.fmt(hc.bosThreshold()) + ", neither direct nor diagonal.",
                        Measure.of("BOS heads", bos, "of " + n + " heads")));
    }
}
