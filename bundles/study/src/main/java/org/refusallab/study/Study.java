package org.refusallab.study;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.TextTokenizer;

/**
 * One analysis's view of the study: its parameters, the prompt sets, the refusal metric and score, and the
 * refusal direction and generations shared by all analyses of a run (computed once, kept in
 * {@link AnalysisContext#shared()}).
 *
 * <p>Parameters: study-wide keys are {@code study.*} (runtime-config/study.json, object "study"); an analysis's
 * own key {@code k} is read as {@code analyses.<id>.k}, then as {@code k}. Paths are relative to the config folder.
 */
public final class Study {

    public static final String SHARED_DIRECTION = "study.refusal-direction";
    public static final String SHARED_SELECTION = "study.refusal-direction.selection";
    public static final String SHARED_GENERATIONS = "study.generations";

    /** Study-wide parameters and their defaults (documented in runtime-config/study.json). */
    public static final Map<String, String> STUDY_DEFAULTS = defaults();

    private final AnalysisContext ctx;
    private final String analysisId;

    private Study(AnalysisContext ctx, String analysisId) {
        this.ctx = ctx;
        this.analysisId = analysisId;
    }

    public static Study of(AnalysisContext ctx, String analysisId) {
        return new Study(ctx, analysisId);
    }

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("study.pairs", "");                       // pairs file; empty = the seed's three pairs
        d.put("study.heldOutPairs", "");                // extra pairs for generations, metric validation, projections; empty = none
        d.put("study.heldOutLimit", "0");               // use the first N held-out pairs; 0 = all
        d.put("study.eval.harmful", "");                // held-out single instructions for generations / metric validation
        d.put("study.eval.harmless", "");
        d.put("study.eval.limit", "0");                 // first N of each eval file; 0 = all
        d.put("study.refusalToken", "I");
        d.put("study.metric", "logit");                 // the seed's metric; "log-odds" = prior work's
        d.put("study.maxBatch", "32");
        d.put("study.maxNewTokens", "32");
        d.put("study.direction.file", "");              // .npy or .json direction computed elsewhere; empty = fit
        d.put("study.direction.harmful", "");           // training instructions; empty = the pairs' harmful side
        d.put("study.direction.harmless", "");
        d.put("study.direction.layer", "-1");           // >= 0 with a position: use that candidate, no selection
        d.put("study.direction.position", "0");         // from the end, -1 = last token
        d.put("study.direction.selectionMetric", "log-odds");
        d.put("study.direction.selectionLimit", "32");  // candidates are scored on the first N prompts of each kind (0 = all)
        d.put("study.direction.klBound", "0.1");
        d.put("study.direction.pruneLayerFraction", "0.2");
        d.put("study.direction.save", "true");          // write directions/<checkpoint>-refusal-direction.{json,npy}
        return java.util.Collections.unmodifiableMap(d);
    }

    public AnalysisContext context() {
        return ctx;
    }

    public HookedModel model() {
        return ctx.model();
    }

    public TextTokenizer tokenizer() {
        return ctx.model().tokenizer();
    }

    public int nLayers() {
        return ctx.model().info().nLayers();
    }

    // ---- parameters

    /** An analysis parameter: {@code analyses.<id>.key}, then {@code key}, then the fallback. */
    public String param(String key, String fallback) {
        Map<String, String> p = ctx.parameters();
        String v = p.get("analyses." + analysisId + "." + key);
        if (v == null) v = p.get(key);
        return v == null ? fallback : v.trim();
    }

    public int intParam(String key, int fallback) {
        String v = param(key, null);
        try {
            return v == null ? fallback : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("parameter " + key + " of " + analysisId + " is not an integer: '" + v + "'");
        }
    }

    /** A study-wide parameter {@code study.key} with its documented default. */
    public String studyParam(String key) {
        String full = "study." + key;
        String v = ctx.parameters().get(full);
        if (v == null) v = STUDY_DEFAULTS.get(full);
        if (v == null) throw new IllegalArgumentException("unknown study parameter " + full);
        return v.trim();
    }

    /** The refusal token as configured, untrimmed (a token may be whitespace, e.g. a newline). */
    public String refusalToken() {
        String v = ctx.parameters().get("study.refusalToken");
        return v == null || v.isEmpty() ? STUDY_DEFAULTS.get("study.refusalToken") : v;
    }

    public int studyInt(String key) {
        String v = studyParam(key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("parameter study." + key + " is not an integer: '" + v + "'");
        }
    }

    public double studyDouble(String key) {
        String v = studyParam(key);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("parameter study." + key + " is not a number: '" + v + "'");
        }
    }

    public Path configFile(String relative) {
        return ctx.configDirectory().resolve(relative);
    }

    // ---- prompts, metric, batching

    public List<PromptPair> pairs() {
        String f = studyParam("pairs");
        return f.isEmpty() ? PromptPair.SEED_PAIRS : PromptSets.readPairs(configFile(f));
    }

    public List<PromptPair> heldOutPairs() {
        String f = studyParam("heldOutPairs");
        return f.isEmpty() ? List.of() : limit(PromptSets.readPairs(configFile(f)), studyInt("heldOutLimit"));
    }

    /** Held-out single instructions: [0] harmful, [1] harmless (empty lists if not configured). */
    public List<List<String>> evalInstructions() {
        String hf = studyParam("eval.harmful"), hl = studyParam("eval.harmless");
        int n = studyInt("eval.limit");
        return List.of(hf.isEmpty() ? List.of() : limit(PromptSets.readInstructions(configFile(hf)), n),
                hl.isEmpty() ? List.of() : limit(PromptSets.readInstructions(configFile(hl)), n));
    }

    private static <T> List<T> limit(List<T> xs, int n) {
        if (n < 0) throw new IllegalArgumentException("a limit must be >= 0 (0 = all), got " + n);
        return n == 0 || n >= xs.size() ? xs : xs.subList(0, n);
    }

    public List<PairTokens> pairTokens() {
        return PairTokens.of(tokenizer(), pairs());
    }

    public RefusalMetric metric() {
        return new RefusalMetric(RefusalMetric.Kind.parse(studyParam("metric")), tokenizer().tokenId(refusalToken()));
    }

    public RefusalScore refusalScore() {
        return RefusalScore.seed();
    }

    public int maxBatch() {
        return intParam("maxBatch", studyInt("maxBatch"));
    }

    public Batches batches() {
        return new Batches(model(), maxBatch(), ctx::checkCancelled, ctx.progress());
    }

    public List<int[]> chat(List<String> instructions) {
        return instructions.stream().map(tokenizer()::encodeChat).toList();
    }

    // ---- shared results

    /** The refusal direction of this run: loaded, configured or selected once, then shared. */
    public RefusalDirection direction() {
        synchronized (ctx.shared()) {
            Object d = ctx.shared().get(SHARED_DIRECTION);
            if (d instanceof RefusalDirection rd) return rd;
            // a failed fit or selection fails every analysis that needs the direction, without being recomputed
            if (d instanceof RuntimeException e) throw new IllegalStateException("the refusal direction is unavailable: " + e.getMessage(), e);
            RefusalDirection rd;
            try {
                rd = computeDirection();
            } catch (RuntimeException e) {
                ctx.shared().put(SHARED_DIRECTION, e);
                throw e;
            }
            if (rd.values().length != model().info().dModel()) {
                throw new IllegalArgumentException("refusal direction " + rd.source() + " has " + rd.values().length
                        + " values; the model's d_model is " + model().info().dModel());
            }
            ctx.shared().put(SHARED_DIRECTION, rd);
            return rd;
        }
    }

    /** The candidate scores of an automatic selection (empty if the direction was configured or loaded). */
    @SuppressWarnings("unchecked")
    public List<DirectionFinder.Candidate> directionCandidates() {
        direction();
        Object s = ctx.shared().get(SHARED_SELECTION);
        return s == null ? List.of() : (List<DirectionFinder.Candidate>) s;
    }

    private RefusalDirection computeDirection() {
        String file = studyParam("direction.file");
        int layer = studyInt("direction.layer");
        int position = studyInt("direction.position");
        if (!file.isEmpty()) return RefusalDirection.load(configFile(file), layer, position);

        List<String> harmful, harmless;
        String hf = studyParam("direction.harmful"), hl = studyParam("direction.harmless");
        if (hf.isEmpty() != hl.isEmpty()) throw new IllegalArgumentException("set both study.direction.harmful and study.direction.harmless, or neither");
        if (hf.isEmpty()) {
            harmful = pairs().stream().map(PromptPair::harmful).toList();
            harmless = pairs().stream().map(PromptPair::harmless).toList();
        } else {
            harmful = PromptSets.readInstructions(configFile(hf));
            harmless = PromptSets.readInstructions(configFile(hl));
        }
        List<String> all = new ArrayList<>(harmful);
        all.addAll(harmless);
        int k = ChatPositions.postInstructionLength(tokenizer(), all);
        List<int[]> harmfulTokens = chat(harmful), harmlessTokens = chat(harmless);
        Batches batches = batches();
        var diffs = DirectionFinder.meanDifferences(batches, nLayers(), harmfulTokens, harmlessTokens, k);
        RefusalDirection rd;
        if (layer >= 0) {
            if (layer >= nLayers() || position >= 0 || position < -k) {
                throw new IllegalArgumentException("study.direction.layer/position " + layer + "/" + position + " outside layers 0.."
                        + (nLayers() - 1) + " and post-instruction positions -" + k + "..-1");
            }
            rd = new RefusalDirection(layer, position, diffs.vector(layer, position), "configured layer " + layer + ", position " + position);
        } else {
            RefusalMetric selectionMetric = new RefusalMetric(RefusalMetric.Kind.parse(studyParam("direction.selectionMetric")),
                    tokenizer().tokenId(refusalToken()));
            int n = studyInt("direction.selectionLimit");
            var sel = DirectionFinder.select(batches, diffs, limit(harmfulTokens, n), limit(harmlessTokens, n), selectionMetric,
                    studyDouble("direction.pruneLayerFraction"), studyDouble("direction.klBound"));
            ctx.shared().put(SHARED_SELECTION, sel.candidates());
            rd = sel.direction();
        }
        if (Boolean.parseBoolean(studyParam("direction.save"))) save(rd);
        return rd;
    }

    private void save(RefusalDirection rd) {
        String name = Path.of(model().info().checkpoint()).getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
        Path dir = ctx.configDirectory().resolve("directions");
        try {
            Files.createDirectories(dir);
            rd.writeJson(dir.resolve(name + "-refusal-direction.json"));
            rd.writeNpy(dir.resolve(name + "-refusal-direction.npy"));
        } catch (IOException e) {
            throw new IllegalStateException("cannot save the refusal direction under " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Baseline and intervened generations, computed once per run: each pair as harmful then harmless (set "pairs",
     * then "held-out pairs"), then the eval instructions (set "eval", harmful ones first).
     */
    @SuppressWarnings("unchecked")
    public List<Generations.Completion> generations() {
        RefusalDirection dir = direction();
        synchronized (ctx.shared()) {
            Object g = ctx.shared().get(SHARED_GENERATIONS);
            if (g != null) return (List<Generations.Completion>) g;
            List<Generations.Prompt> prompts = new ArrayList<>();
            for (PromptPair p : pairs()) {
                prompts.add(new Generations.Prompt("pairs", true, p.harmful()));
                prompts.add(new Generations.Prompt("pairs", false, p.harmless()));
            }
            for (PromptPair p : heldOutPairs()) {
                prompts.add(new Generations.Prompt("held-out pairs", true, p.harmful()));
                prompts.add(new Generations.Prompt("held-out pairs", false, p.harmless()));
            }
            List<List<String>> eval = evalInstructions();
            for (String s : eval.get(0)) prompts.add(new Generations.Prompt("eval", true, s));
            for (String s : eval.get(1)) prompts.add(new Generations.Prompt("eval", false, s));
            var out = Generations.run(model(), prompts, dir, studyInt("maxNewTokens"), maxBatch(), refusalScore(), ctx::checkCancelled);
            ctx.shared().put(SHARED_GENERATIONS, out);
            return out;
        }
    }
}
