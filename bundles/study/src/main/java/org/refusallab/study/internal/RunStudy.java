package org.refusallab.study.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.TextTokenizer;
import org.refusallab.api.study.Ablation;
import org.refusallab.api.study.Completion;
import org.refusallab.api.study.DataSet;
import org.refusallab.api.study.DirectionCandidate;
import org.refusallab.api.study.HeadClassParameters;
import org.refusallab.api.study.HeadClasses;
import org.refusallab.api.study.PairTokens;
import org.refusallab.api.study.PromptPair;
import org.refusallab.api.study.RefusalDirection;
import org.refusallab.api.study.RefusalMetric;
import org.refusallab.api.study.RefusalScore;
import org.refusallab.api.study.Study;
import org.refusallab.api.study.StudyParameters;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;
import org.refusallab.api.sweep.SweepService;

/**
 * One analysis's view of the study in one run. The refusal direction, its candidates and the generations are
 * shared by the run's analyses through {@link AnalysisContext#shared} (computed once). Paths are relative to the
 * config folder.
 */
final class RunStudy implements Study {

    static final String SHARED_DIRECTION = "study.refusal-direction";
    static final String SHARED_GENERATIONS = "study.generations";

    /** The direction with the candidate scores of its selection (empty if configured or loaded). */
    record Found(RefusalDirection direction, List<DirectionCandidate> candidates) { }

    /** The generations of a run. */
    record Generated(List<Completion> completions) { }

    private final AnalysisContext ctx;
    private final SweepService sweeps;
    private final StudyParameters p;
    private DataSplits.Splits splits;

    RunStudy(AnalysisContext ctx, SweepService sweeps) {
        this.ctx = ctx;
        this.sweeps = sweeps;
        this.p = ctx.parameters(StudyParameters.class);
    }

    @Override public AnalysisContext context() { return ctx; }
    @Override public HookedModel model() { return ctx.model(); }
    @Override public TextTokenizer tokenizer() { return ctx.model().tokenizer(); }
    @Override public int nLayers() { return ctx.model().info().nLayers(); }
    @Override public StudyParameters parameters() { return p; }

    private Path configFile(String relative) {
        return ctx.configDirectory().resolve(relative);
    }

    /** The refusal token as configured, untrimmed (a token may be whitespace, e.g. a newline). */
    private String refusalToken() {
        String v = ctx.parameters().get("study.refusalToken");
        return v == null || v.isEmpty() ? p.refusalToken() : v;
    }

    /** The prompt sets, read and checked disjoint once per analysis (an overlap is an error naming both sets). */
    private DataSplits.Splits splits() {
        if (splits == null) splits = DataSplits.build(p, this::configFile);
        return splits;
    }

    @Override
    public List<PromptPair> pairs() {
        return splits().pairs();
    }

    @Override
    public List<PromptPair> heldOutPairs() {
        return splits().heldOut();
    }

    @Override
    public List<DataSet> dataSets() {
        return splits().sets();
    }

    @Override
    public List<String> evalHarmful() {
        return splits().evalHarmful();
    }

    @Override
    public List<String> evalHarmless() {
        return splits().evalHarmless();
    }

    @Override
    public List<PairTokens> pairTokens() {
        return PairTokens.of(tokenizer(), pairs());
    }

    @Override
    public List<int[]> chat(List<String> instructions) {
        return instructions.stream().map(tokenizer()::encodeChat).toList();
    }

    @Override
    public RefusalMetric metric() {
        return new RefusalMetric(RefusalMetric.Kind.parse(p.metric()), tokenizer().tokenId(refusalToken()));
    }

    @Override
    public RefusalScore refusalScore() {
        return RefusalScore.seed();
    }

    @Override
    public HeadClasses headClasses() {
        HeadClassParameters hp = ctx.parameters(HeadClassParameters.class);
        // keyed by the values, not by the analysis: head-classes and direct-head get the same object in either order
        String key = "study.head-classes:" + hp.layers().trim() + "|" + hp.threshold() + "|" + hp.diagonal().trim() + "|"
                + hp.bosThreshold() + "|" + hp.prompts().trim();
        return ctx.shared(key, HeadClasses.class, () -> HeadClassFinder.find(this, hp));
    }

    @Override
    public List<RowResult> sweep(List<Row> rows) {
        return sweeps.run(rows, new SweepService.Options(p.maxBatch(), ctx.progress(), ctx::cancelled));
    }

    @Override
    public RefusalDirection direction() {
        return found().direction();
    }

    @Override
    public List<DirectionCandidate> directionCandidates() {
        return found().candidates();
    }

    private Found found() {
        return ctx.shared(SHARED_DIRECTION, Found.class, () -> {
            Found f = computeDirection();
            if (f.direction().values().length != model().info().dModel()) {
                throw new IllegalArgumentException("refusal direction " + f.direction().source() + " has " + f.direction().values().length
                        + " values; the model's d_model is " + model().info().dModel());
            }
            return f;
        });
    }

    private Found computeDirection() {
        String file = p.direction_file().trim();
        int layer = p.direction_layer();
        int position = p.direction_position();
        if (!file.isEmpty()) return new Found(DirectionFiles.load(configFile(file), layer, position), List.of());

        // fit on the training split, select on the validation split (DataSplits keeps them apart)
        List<String> harmful = splits().trainHarmful(), harmless = splits().trainHarmless();
        List<String> all = new ArrayList<>(harmful);
        all.addAll(harmless);
        all.addAll(splits().validationHarmful());
        all.addAll(splits().validationHarmless());
        int k = ChatPositions.postInstructionLength(tokenizer(), all);
        List<int[]> harmfulTokens = chat(harmful), harmlessTokens = chat(harmless);
        var diffs = DirectionFinder.meanDifferences(this::sweep, nLayers(), harmfulTokens, harmlessTokens, k);
        Found found;
        if (layer >= 0) {
            if (layer >= nLayers() || position >= 0 || position < -k) {
                throw new IllegalArgumentException("study.direction.layer/position " + layer + "/" + position + " outside layers 0.."
                        + (nLayers() - 1) + " and post-instruction positions -" + k + "..-1");
            }
            found = new Found(new RefusalDirection(layer, position, diffs.vector(layer, position), "configured layer " + layer + ", position " + position), List.of());
        } else {
            RefusalMetric selectionMetric = new RefusalMetric(RefusalMetric.Kind.parse(p.direction_selectionMetric()), tokenizer().tokenId(refusalToken()));
            var sel = DirectionFinder.select(this::sweep, diffs, chat(splits().validationHarmful()), chat(splits().validationHarmless()), selectionMetric,
                    p.direction_pruneLayerFraction(), p.direction_klBound(), p.direction_fallbackKlBound());
            found = new Found(sel.direction(), sel.candidates());
        }
        if (p.direction_save()) save(found.direction());
        return found;
    }

    private void save(RefusalDirection rd) {
        String name = Path.of(model().info().checkpoint()).getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
        Path dir = ctx.configDirectory().resolve("directions");
        try {
            Files.createDirectories(dir);
            DirectionFiles.writeJson(rd, dir.resolve(name + "-refusal-direction.json"));
            DirectionFiles.writeNpy(rd, dir.resolve(name + "-refusal-direction.npy"));
        } catch (IOException e) {
            throw new IllegalStateException("cannot save the refusal direction under " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<Completion> generations() {
        RefusalDirection dir = direction();
        return ctx.shared(SHARED_GENERATIONS, Generated.class, () -> new Generated(generate(dir))).completions();
    }

    /** One prompt of the generation run. */
    private record Prompt(String set, boolean harmful, String instruction) { }

    private List<Completion> generate(RefusalDirection dir) {
        List<Prompt> prompts = new ArrayList<>();
        for (PromptPair pp : pairs()) {
            prompts.add(new Prompt("pairs", true, pp.harmful()));
            prompts.add(new Prompt("pairs", false, pp.harmless()));
        }
        for (PromptPair pp : heldOutPairs()) {
            prompts.add(new Prompt("held-out pairs", true, pp.harmful()));
            prompts.add(new Prompt("held-out pairs", false, pp.harmless()));
        }
        for (String s : evalHarmful()) prompts.add(new Prompt("eval", true, s));
        for (String s : evalHarmless()) prompts.add(new Prompt("eval", false, s));
        // baseline and intervened copies decode together: every prompt twice, the ablation on the second copy only
        ReadOut decode = ReadOut.generation(p.maxNewTokens());
        var ablation = Ablation.directional(nLayers(), dir.values());
        List<Row> rows = new ArrayList<>();
        for (Prompt pr : prompts) rows.add(Row.of(tokenizer().encodeChat(pr.instruction())).reading(decode));
        for (Prompt pr : prompts) rows.add(Row.of(tokenizer().encodeChat(pr.instruction())).with(ablation).reading(decode));
        List<RowResult> res = sweep(rows);
        RefusalScore score = refusalScore();
        List<Completion> out = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            Prompt pr = prompts.get(i);
            String base = tokenizer().decode(res.get(i).generated(0), true);
            String intervened = tokenizer().decode(res.get(prompts.size() + i).generated(0), true);
            out.add(new Completion(pr.set(), pr.harmful(), pr.instruction(), base, score.isRefusal(base), intervened, score.isRefusal(intervened)));
        }
        return List.copyOf(out);
    }
}
