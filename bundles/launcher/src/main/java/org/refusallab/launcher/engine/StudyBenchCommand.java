package org.refusallab.launcher.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.TextTokenizer;
import org.refusallab.api.study.Ablation;
import org.refusallab.checkpoint.Checkpoint;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.GemmaConfigs;
import org.refusallab.checkpoint.GemmaTensors;
import org.refusallab.checkpoint.LoadedCheckpoint;
import org.refusallab.engine.Engine;
import org.refusallab.engine.GemmaModel;
import org.refusallab.engine.train.GemmaTrainer;
import org.refusallab.launcher.Lab;
import org.refusallab.launcher.LabOptions;
import org.refusallab.platform.AnalysisRunner;
import org.refusallab.platform.Section;
import org.refusallab.platform.StudyConfig;
import org.refusallab.tokenizer.HfTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The whole study as a benchmark: every enabled analysis of a study configuration, run through the platform as
 * {@code run} runs it, on random weights of a named shape, with the tokenizer of {@code --model} (the toy tokenizer's
 * ids are valid ids of any vocabulary at least as large). Per analysis: wall time, forward rows, decoded rows, tokens
 * generated, peak RSS; direction selection is timed apart, per candidate, and the study then runs with a configured
 * direction (study.direction.layer). With {@code --max-rows} each analysis stops after about that many rows and its
 * full time is projected from the row counts of {@code --rows-from} (a table this command wrote, e.g. at the narrow
 * twin of the shape: same layers and heads, so the same rows).
 */
@Command(name = "bench-study", mixinStandardHelpOptions = true,
        description = "Run the whole study on random weights of a named shape: time, forward rows, tokens generated and peak RSS per analysis.")
public class StudyBenchCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    LabOptions options;

    @Option(names = "--shape", paramLabel = "NAME|DIR", defaultValue = "gemma-2b",
            description = "gemma-2b, gemma-2-2b, their narrow twins gemma-2b-narrow / gemma-2-2b-narrow (same layers, heads and vocabulary; "
                    + "d_model 128: the same rows, for counting), or a folder whose config.json gives the shape; default gemma-2b")
    String shape;

    @Option(names = "--max-rows", paramLabel = "N", defaultValue = "0",
            description = "stop each analysis once it has run N rows (forward plus decoded) and project its time; 0 = run everything (default)")
    long maxRows;

    @Option(names = "--rows-from", paramLabel = "FILE", description = "a table (TSV) written by a full bench-study run: its rows per analysis project bounded runs")
    Path rowsFrom;

    @Option(names = "--candidates", paramLabel = "N", defaultValue = "2", description = "direction candidates timed; default 2")
    int candidates;

    @Option(names = "--direction-layer", paramLabel = "L", defaultValue = "-1",
            description = "the configured direction's layer for the study run (position -1); default: the middle layer")
    int directionLayer;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "0",
            description = "replace study.maxBatch (rows per forward batch), e.g. so that a bounded run at a large shape stops soon; 0 = as configured (default)")
    int maxBatch;

    @Option(names = "--only", paramLabel = "ID", split = ",", description = "run only these analyses (comma-separated ids)")
    List<String> only;

    @Option(names = "--table", paramLabel = "FILE", description = "also write the table as TSV here")
    Path table;

    @Option(names = "--seed", defaultValue = "0", description = "seed for random weights; default 0")
    long seed;

    @Option(names = "--weights", paramLabel = "random|checkpoint", defaultValue = "random",
            description = "random: normal(0, 0.02) weights made in memory (default); checkpoint: load the safetensors of the --shape folder "
                    + "(e.g. one bench/make_random_checkpoint.py wrote: at gemma-2b, loading 5 GB of bf16 takes far less than ND4J's randn)")
    String weights;

    @Spec
    CommandSpec spec;

    /** One analysis's measurements. */
    public record Result(String id, String status, double seconds, long forwardRows, long decodedRows, long tokens, long peakRssBytes,
                         boolean bounded) {
        long rows() {
            return forwardRows + decodedRows;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (maxRows < 0) throw new IllegalArgumentException("--max-rows must be 0 or more, got " + maxRows);
        if (candidates < 0) throw new IllegalArgumentException("--candidates must be 0 or more, got " + candidates);
        Map<String, Long> projectRows = rowsFrom == null ? Map.of() : readRows(LabOptions.home().resolve(rowsFrom));
        PrintWriter out = spec.commandLine().getOut();
        Engine.pinNd4jClassLoader();
        Engine.configureMatmulThreads();
        GemmaConfig cfg = shape(shape);
        Path tokenizerDir = options.modelDir();
        long t0 = System.nanoTime();
        if (!weights.equals("random") && !weights.equals("checkpoint")) {
            throw new IllegalArgumentException("--weights must be random or checkpoint, got '" + weights + "'");
        }
        boolean fromDisk = weights.equals("checkpoint");
        if (fromDisk && !Files.isRegularFile(LabOptions.home().resolve(shape).resolve(Checkpoint.CONFIG_FILE))) {
            throw new IllegalArgumentException("--weights checkpoint needs --shape to be a checkpoint folder, got '" + shape + "'");
        }
        LoadedCheckpoint ckpt = fromDisk ? Checkpoint.load(LabOptions.home().resolve(shape).normalize())
                : new LoadedCheckpoint(cfg, GemmaTrainer.initialWeights(cfg, seed), Path.of("random-" + shapeName()), "float32");
        double made = (System.nanoTime() - t0) / 1e9;
        long weightBytes = GemmaTensors.totalBytes(ckpt.weights());
        HfTokenizer tokenizer = HfTokenizer.load(tokenizerDir);
        Path config = benchConfig(options.configDir(), options.workDir().resolve("bench-study"), cfg.numLayers(), cfg.hiddenSize());
        StudyConfig study = StudyConfig.load(config.resolve("study.json"));
        out.printf("shape: %s, %s, float32: %s %d layers, d_model %d, d_mlp %d, %d heads x %d, %d kv heads, vocab %d; %.2f GB made in %.1f s%n",
                shapeName(), fromDisk ? "weights loaded from its safetensors" : "random weights (seed " + seed + ")", cfg.modelType(), cfg.numLayers(), cfg.hiddenSize(), cfg.intermediateSize(), cfg.numHeads(), cfg.headDim(),
                cfg.numKvHeads(), cfg.vocabSize(), weightBytes / 1e9, made);
        out.printf("tokenizer: %s (%d tokens; its ids are ids of the %d-token vocabulary, ids past its own decode as <id N>; texts differ from the real tokenizer's)%n",
                tokenizerDir.resolve("tokenizer.json"), tokenizer.vocabSize(), cfg.vocabSize());
        out.printf("threads: BLAS %d; OMP_NUM_THREADS=%s; load average at start %s%n", Engine.configureMatmulThreads(), System.getenv("OMP_NUM_THREADS"), loadAverage());
        out.flush();
        if (tokenizer.vocabSize() > cfg.vocabSize()) {
            throw new IllegalArgumentException(tokenizerDir.resolve("tokenizer.json") + " has " + tokenizer.vocabSize() + " tokens, more than the shape's vocabulary of " + cfg.vocabSize());
        }
        try (GemmaModel gemma = new GemmaModel(ckpt, new WideTokenizer(tokenizer, tokenizer.vocabSize()))) {
            CountingModel model = new CountingModel(gemma);
            Configured conf = configured(study, config, tokenizer, cfg);
            conf.print(out);
            double perCandidate = timeCandidates(model, conf, out);
            Lab.Settings s = options.settings(false, false, model);
            Lab.Settings settings = new Lab.Settings(s.home(), s.work(), config, s.modelDir(), s.gelu(), s.frameworkBundles(), false, false,
                    s.frameworkOverrides(), model, s.progress());
            List<Result> results = new ArrayList<>();
            try (Lab lab = Lab.start(settings)) {
                List<String> ids = lab.runner().resolve().winners().stream().map(AnalysisRunner.Candidate::id)
                        .filter(id -> only == null ? study.settings(id).enabled() : only.contains(id)).toList();
                if (only != null && !ids.containsAll(only)) {
                    throw new IllegalArgumentException("--only: no analysis " + only.stream().filter(id -> !ids.contains(id)).toList() + "; present: " + ids);
                }
                for (String id : ids) {
                    model.reset(maxRows);
                    Section sec = lab.runAll(Set.of(id)).get(0);
                    boolean bounded = sec.failed() && String.valueOf(sec.error()).contains("row budget of");
                    Result r = new Result(id, bounded ? "BOUNDED" : sec.status().toString(), sec.took() == null ? 0 : sec.took().toMillis() / 1000.0,
                            model.forwardRows(), model.decodedRows(), model.tokensGenerated(), BenchCommand.peakRssBytes(), bounded);
                    results.add(r);
                    out.printf("%s %s in %.1f s: %d forward rows, %d decoded rows, %d tokens generated%s%n", r.id(), r.status(), r.seconds(),
                            r.forwardRows(), r.decodedRows(), r.tokens(), sec.failed() && !bounded ? " (" + sec.errorLine() + ")" : "");
                    out.flush();
                }
            }
            printTable(out, results, projectRows, perCandidate, conf, weightBytes);
            if (table != null) writeTable(LabOptions.home().resolve(table), results);
            return results.stream().anyMatch(r -> r.status().equals("FAILED")) ? 1 : 0;
        } finally {
            tokenizer.close();
        }
    }

    private String shapeName() {
        return shape.contains("/") ? Path.of(shape).getFileName().toString() : shape;
    }

    /** The named shapes, or a checkpoint folder's config.json. */
    static GemmaConfig shape(String name) {
        return switch (name) {
            case "gemma-2b" -> GemmaConfig.gemma2b();
            case "gemma-2-2b" -> GemmaConfig.gemma2_2b();
            case "gemma-2b-narrow" -> narrow(GemmaConfig.gemma2b());
            case "gemma-2-2b-narrow" -> narrow(GemmaConfig.gemma2_2b());
            default -> {
                Path dir = LabOptions.home().resolve(name).normalize();
                if (!Files.isRegularFile(dir.resolve(Checkpoint.CONFIG_FILE))) {
                    throw new IllegalArgumentException("--shape: not gemma-2b, gemma-2-2b, gemma-2b-narrow, gemma-2-2b-narrow or a folder with config.json: " + name);
                }
                yield GemmaConfigs.read(dir.resolve(Checkpoint.CONFIG_FILE));
            }
        };
    }

    /** The same layers, heads, key/value heads, vocabulary and Gemma 2 settings at d_model 128, head_dim 16, d_mlp 256. */
    static GemmaConfig narrow(GemmaConfig c) {
        return new GemmaConfig(c.modelType(), c.vocabSize(), 128, 256, c.numLayers(), c.numHeads(), c.numKvHeads(), 16, c.rmsNormEps(),
                c.ropeTheta(), c.gelu(), c.torchDtype(), c.bosTokenId(), c.eosTokenId(), c.padTokenId(), c.maxPositionEmbeddings(), c.gemma2());
    }

    /**
     * A copy of the study configuration under {@code into} (replaced at each bench run; the user's folder is only read)
     * whose study.json configures the direction as a user does once selection has run and saved it: a direction file
     * (here a random vector at layer {@code --direction-layer}, default the middle one, position -1; what analyses
     * cost does not depend on its values), not saved again. {@code --max-batch} replaces study.maxBatch.
     */
    Path benchConfig(Path configDir, Path into, int nLayers, int dModel) throws IOException {
        Path copy = into.resolve("config");
        if (Files.exists(copy)) {
            try (Stream<Path> s = Files.walk(copy)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
        try (Stream<Path> s = Files.walk(configDir)) {
            for (Path p : s.toList()) {
                Path rel = configDir.relativize(p);
                if (rel.startsWith("directions")) continue; // saved directions are not the bench's
                Path to = copy.resolve(rel.toString());
                if (Files.isDirectory(p)) Files.createDirectories(to);
                else Files.copy(p, to, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        int layer = directionLayer >= 0 ? directionLayer : nLayers / 2;
        if (layer >= nLayers) throw new IllegalArgumentException("--direction-layer " + layer + " is not a layer of the " + nLayers + "-layer shape");
        ObjectNode dir = JSON.createObjectNode();
        dir.put("layer", layer);
        dir.put("position", -1);
        dir.put("source", "bench-study: random vector (seed " + seed + ")");
        var values = dir.putArray("values");
        Random random = new Random(seed);
        for (int i = 0; i < dModel; i++) values.add((float) random.nextGaussian());
        JSON.writeValue(copy.resolve("bench-direction.json").toFile(), dir);
        Path studyFile = copy.resolve("study.json");
        ObjectNode root = (ObjectNode) JSON.readTree(studyFile.toFile());
        ObjectNode study = root.with("parameters").with("study");
        if (maxBatch > 0) study.put("maxBatch", maxBatch);
        ObjectNode direction = study.with("direction");
        direction.put("file", "bench-direction.json");
        direction.put("layer", layer);
        direction.put("position", -1);
        direction.put("save", false);
        JSON.writerWithDefaultPrettyPrinter().writeValue(studyFile.toFile(), root);
        return copy;
    }

    /** The study's sizes as configured (what the table header states). */
    record Configured(int pairs, int heldOut, int evalHarmful, int evalHarmless, int maxNewTokens, int maxBatch, int trainHarmful,
                      int trainHarmless, int selectionPrompts, int postInstruction, int candidateLayers, List<String> harmful,
                      List<String> harmless, int layer) {
        int candidates() {
            return candidateLayers * postInstruction;
        }

        void print(PrintWriter out) {
            out.printf("study: %d pairs + %d held-out pairs, eval %d harmful + %d harmless, %d new tokens per generation, batches of up to %d rows%n",
                    pairs, heldOut, evalHarmful, evalHarmless, maxNewTokens, maxBatch);
            out.printf("direction: mean differences over %d harmful + %d harmless training prompts; selection: %d candidates (%d layers x %d post-instruction positions),"
                    + " %d prompts each; the study runs with a configured direction (a file) at layer %d, position -1%n",
                    trainHarmful, trainHarmless, candidates(), candidateLayers, postInstruction, selectionPrompts, layer);
        }
    }

    static Configured configured(StudyConfig study, Path config, TextTokenizer tok, GemmaConfig cfg) {
        Map<String, String> p = study.parameters();
        int pairs = lines(config, p.get("study.pairs"));
        int heldOut = Math.min(lines(config, p.get("study.heldOutPairs")), intParam(p, "study.heldOutLimit", Integer.MAX_VALUE));
        int evalLimit = intParam(p, "study.eval.limit", Integer.MAX_VALUE);
        // the study's data splits: eval and direction files skip every prompt of the seed and held-out pair files, and
        // the last selectionLimit lines of each direction file are the validation split (runtime-config/README.md)
        Set<String> pairPrompts = new HashSet<>();
        for (String key : List.of("study.pairs", "study.heldOutPairs")) {
            for (String field : List.of("harmful", "harmless")) pairPrompts.addAll(pairField(config, p.get(key), field));
        }
        List<String> harmful = new ArrayList<>(instructions(config, p.get("study.direction.harmful")));
        List<String> harmless = new ArrayList<>(instructions(config, p.get("study.direction.harmless")));
        boolean files = !harmful.isEmpty();
        harmful.removeAll(pairPrompts);
        harmless.removeAll(pairPrompts);
        if (!files) {
            harmful = pairField(config, p.get("study.pairs"), "harmful");
            harmless = pairField(config, p.get("study.pairs"), "harmless");
        }
        int k = postInstructionLength(tok, harmful.get(0));
        double prune = Double.parseDouble(p.getOrDefault("study.direction.pruneLayerFraction", "0.2"));
        int selection = Math.min(intParam(p, "study.direction.selectionLimit", Integer.MAX_VALUE), Math.min(harmful.size(), harmless.size()));
        if (files) { // fit on the lines before the validation split
            harmful = harmful.subList(0, harmful.size() - selection);
            harmless = harmless.subList(0, harmless.size() - selection);
        }
        List<String> evalHarmful = new ArrayList<>(instructions(config, p.get("study.eval.harmful")));
        List<String> evalHarmless = new ArrayList<>(instructions(config, p.get("study.eval.harmless")));
        evalHarmful.removeAll(pairPrompts);
        evalHarmless.removeAll(pairPrompts);
        int layer = Integer.parseInt(p.get("study.direction.layer"));
        return new Configured(pairs, heldOut, Math.min(evalHarmful.size(), evalLimit), Math.min(evalHarmless.size(), evalLimit),
                intParam(p, "study.maxNewTokens", 0), intParam(p, "study.maxBatch", 0), harmful.size(), harmless.size(), selection, k,
                (int) (cfg.numLayers() * (1.0 - prune)), harmful, harmless, layer);
    }

    /** Tokens after the instruction in its chat prompt (the candidate positions of direction selection). */
    static int postInstructionLength(TextTokenizer tok, String instruction) {
        String full = tok.chatPrompt(instruction);
        int end = full.indexOf(instruction) + instruction.length();
        return tok.encode(full).length - tok.encode(full.substring(0, end)).length;
    }

    private static int intParam(Map<String, String> p, String key, int absent) {
        String v = p.get(key);
        return v == null || v.isBlank() ? absent : Integer.parseInt(v.trim());
    }

    private static int lines(Path config, String file) {
        if (file == null || file.isBlank()) return 0;
        try (Stream<String> s = Files.lines(config.resolve(file))) {
            return (int) s.filter(l -> !l.isBlank()).count();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + config.resolve(file) + ": " + e.getMessage());
        }
    }

    private static List<String> instructions(Path config, String file) {
        return pairField(config, file, "instruction");
    }

    private static List<String> pairField(Path config, String file, String field) {
        if (file == null || file.isBlank()) return List.of();
        try (Stream<String> s = Files.lines(config.resolve(file))) {
            List<String> out = new ArrayList<>();
            for (String l : s.filter(l -> !l.isBlank()).toList()) out.add(JSON.readTree(l).path(field).asText());
            return out;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + config.resolve(file) + ": " + e.getMessage());
        }
    }

    /**
     * Times {@code --candidates} candidates as direction selection scores them: per candidate, directional ablation
     * (every layer) on the selection's harmful and harmless prompts and activation addition at its layer on the
     * harmless ones, one batch, last-position logits. Returns seconds per candidate (NaN if none timed).
     */
    private double meanDiffSecondsPerRow = Double.NaN;

    double timeCandidates(CountingModel model, Configured c, PrintWriter out) {
        if (candidates == 0 || c.selectionPrompts() == 0) return Double.NaN;
        TextTokenizer tok = model.tokenizer();
        int n = model.info().nLayers(), d = model.info().dModel();
        List<int[]> harmful = c.harmful().subList(0, c.selectionPrompts()).stream().map(tok::encodeChat).toList();
        List<int[]> harmless = c.harmless().subList(0, c.selectionPrompts()).stream().map(tok::encodeChat).toList();
        Random random = new Random(seed);
        model.reset(0);
        // the mean differences read blocks.*.hook_resid_pre of every training prompt: time one batch of them
        Set<String> resid = new java.util.LinkedHashSet<>();
        for (int l = 0; l < n; l++) resid.add(Hooks.residPre(l));
        long tm = System.nanoTime();
        model.run(ForwardRequest.of(harmful).caching(resid));
        meanDiffSecondsPerRow = (System.nanoTime() - tm) / 1e9 / harmful.size();
        out.printf("mean differences: %.2f s per row (%d rows timed, blocks.*.hook_resid_pre cached)%n", meanDiffSecondsPerRow, harmful.size());
        double total = 0;
        for (int i = 0; i < candidates; i++) {
            float[] r = new float[d];
            for (int x = 0; x < d; x++) r[x] = (float) random.nextGaussian();
            int layer = 1 + i % Math.max(1, c.candidateLayers() - 1);
            List<Intervention> ablate = Ablation.directional(n, r);
            long t = System.nanoTime();
            // rows of different interventions are separate requests here; the study batches them by prompt length
            model.run(ForwardRequest.of(harmful).with(ablate));
            model.run(ForwardRequest.of(harmless).with(ablate));
            model.run(ForwardRequest.of(harmless).with(List.of(Ablation.addition(layer, r, 1f))));
            double s = (System.nanoTime() - t) / 1e9;
            total += s;
            out.printf("direction candidate %d (layer %d): %.1f s for %d rows%n", i + 1, layer, s, 3 * c.selectionPrompts());
            out.flush();
        }
        return total / candidates;
    }

    void printTable(PrintWriter out, List<Result> results, Map<String, Long> projectRows, double perCandidate, Configured c, long weightBytes) {
        out.println();
        out.printf("%-24s %-8s %10s %12s %12s %10s %10s %12s %12s%n", "analysis", "status", "seconds", "forward_rows", "decoded_rows", "tokens",
                "rows/s", "proj_seconds", "peak_rss_GB");
        double sum = 0;
        for (Result r : results) {
            double rate = r.seconds() > 0 ? r.rows() / r.seconds() : Double.NaN;
            Long all = projectRows.get(r.id());
            double projected = r.bounded() ? (all != null && rate > 0 ? all / rate : Double.NaN) : r.seconds();
            sum += projected;
            out.printf("%-24s %-8s %10.1f %12d %12d %10d %10.3f %12s %12.2f%n", r.id(), r.status(), r.seconds(), r.forwardRows(), r.decodedRows(),
                    r.tokens(), rate, r.bounded() ? String.format("%.0f", projected) : "-", r.peakRssBytes() / 1e9);
        }
        out.printf("total: %.1f s (%s)%n", sum, results.stream().anyMatch(Result::bounded) ? "measured + projected from --rows-from" : "measured");
        if (!Double.isNaN(perCandidate)) {
            int meanRows = c.trainHarmful() + c.trainHarmless();
            out.printf("direction selection (runs once, saved; not in the total): mean differences %d rows x %.2f s = %.0f s, then %.1f s per candidate"
                    + " (%d rows each) x %d candidates = %.0f s; %.0f s in all (projected from the rows timed)%n", meanRows, meanDiffSecondsPerRow,
                    meanRows * meanDiffSecondsPerRow, perCandidate, 3 * c.selectionPrompts(), c.candidates(), perCandidate * c.candidates(),
                    meanRows * meanDiffSecondsPerRow + perCandidate * c.candidates());
        }
        long peak = BenchCommand.peakRssBytes();
        out.printf("peak RSS %.2f GB = %.2fx the weights (%.2f GB)%n", peak / 1e9, (double) peak / weightBytes, weightBytes / 1e9);
        out.flush();
    }

    static void writeTable(Path file, List<Result> results) throws IOException {
        StringBuilder sb = new StringBuilder("analysis\tstatus\tseconds\tforward_rows\tdecoded_rows\ttokens\n");
        for (Result r : results) {
            sb.append(r.id()).append('\t').append(r.status()).append('\t').append(String.format("%.3f", r.seconds())).append('\t')
                    .append(r.forwardRows()).append('\t').append(r.decodedRows()).append('\t').append(r.tokens()).append('\n');
        }
        if (file.getParent() != null) Files.createDirectories(file.getParent());
        Files.writeString(file, sb.toString());
    }

    /** Rows (forward plus decoded) per analysis of a table written by {@link #writeTable}, from runs that were not bounded. */
    static Map<String, Long> readRows(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--rows-from: no such file " + file);
        Map<String, Long> out = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split("\t");
            if (f.length < 6) throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected 6 tab-separated fields");
            if (!f[1].equals("BOUNDED")) out.put(f[0], Long.parseLong(f[3]) + Long.parseLong(f[4]));
        }
        return out;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
