package org.refusallab.launcher.engine;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.checkpoint.Checkpoint;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.GemmaConfigs;
import org.refusallab.checkpoint.GemmaTensors;
import org.refusallab.checkpoint.LoadedCheckpoint;
import org.refusallab.engine.Engine;
import org.refusallab.engine.GemmaModel;
import org.refusallab.engine.train.GemmaTrainer;
import org.refusallab.launcher.LabOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * With {@code --decode N}: times greedy generation instead ({@link GemmaModel#generate} with key/value caches, no stop
 * tokens, so every row makes N tokens): the whole call (the prompt's forward and N - 1 one-position steps), decode
 * tokens/s = batch x N / that time, the prompt's forward alone (a generation of one token) and the mean step.
 *
 * <p>Otherwise times the engine's forward pass ({@link GemmaModel#run}, no hooks, last-position logits, as analyses call it) and,
 * in the same process, a GEMM FLOP/s ceiling: x [batch*seq, d_model] times a checkpoint MLP weight [d_mlp, d_model]
 * transposed, the largest matmul of a block. Peak RSS is the process's VmHWM, so it covers weights, graphs and every
 * forward so far; batches run in the order given.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time the engine's forward pass (median after warm-up), tokens/s, peak RSS and a GEMM FLOP/s ceiling.")
public class BenchCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "gemma-2b|DIR", defaultValue = "gemma-2b",
            description = "gemma-2b (its shapes, float32) or a checkpoint folder whose config.json gives the shapes; default gemma-2b")
    String config;

    @Option(names = "--weights", paramLabel = "random|checkpoint", defaultValue = "random",
            description = "random: normal(0, 0.02) weights (timing does not depend on values); checkpoint: load the folder's safetensors; default random")
    String weights;

    @Option(names = "--batch", paramLabel = "B", split = ",", defaultValue = "1", description = "batch size(s), comma-separated, run in this order; default 1")
    List<Integer> batches;

    @Option(names = "--seq", paramLabel = "S", defaultValue = "24", description = "tokens per row; default 24")
    int seq;

    @Option(names = "--repeats", paramLabel = "N", defaultValue = "5", description = "timed forwards per batch size (the median is reported); default 5")
    int repeats;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "1", description = "untimed forwards first (the first builds the graphs); default 1")
    int warmup;

    @Option(names = "--seed", defaultValue = "0", description = "seed for random weights and token ids; default 0")
    long seed;

    @Option(names = "--decode", paramLabel = "N", defaultValue = "0",
            description = "time greedy generation of N new tokens per row after the --seq prompt (cached decoding) instead of one forward; default 0 (forward)")
    int decode;

    @Option(names = {"-v", "--verbose"}, description = "stack traces on errors")
    boolean verbose;

    @Spec
    CommandSpec spec;

    /** One batch size's measurements. */
    public record Row(int batch, int seq, double forwardSeconds, double minSeconds, double maxSeconds, double tokensPerSecond,
                      double forwardGflops, double gemmGflops, long peakRssBytes) { }

    @Override
    public Integer call() {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        Engine.pinNd4jClassLoader();
        Engine.configureMatmulThreads();
        long t0 = System.nanoTime();
        LoadedCheckpoint ckpt = checkpoint();
        double setupSeconds = (System.nanoTime() - t0) / 1e9;
        GemmaConfig cfg = ckpt.config();
        long weightBytes = GemmaTensors.totalBytes(ckpt.weights());
        out.printf("config: %s, %s weights, float32; %d layers, d_model %d, d_mlp %d, %d heads x %d, %d kv heads, vocab %d%n",
                config, weights.equals("random") ? "random (seed " + seed + ")" : "checkpoint", cfg.numLayers(), cfg.hiddenSize(),
                cfg.intermediateSize(), cfg.numHeads(), cfg.headDim(), cfg.numKvHeads(), cfg.vocabSize());
        out.printf("weights: %.2f GB (%d parameters), made/loaded in %.1f s%n", weightBytes / 1e9, cfg.parameterCount(), setupSeconds);
        out.printf("threads: ND4J %d, BLAS %d (%s); OPENBLAS_CORETYPE=%s; BLAS library: %s%n", Nd4j.getEnvironment().maxThreads(),
                Nd4j.factory().blas().getMaxThreads(), Nd4j.factory().blas().getBlasVendor(), System.getenv("OPENBLAS_CORETYPE"),
                String.join(" ", blasLibraries()));
        out.flush();
        if (decode > 0) return decodeBench(out, ckpt, weightBytes);
        List<Row> rows = new ArrayList<>();
        try (GemmaModel model = new GemmaModel(ckpt, null)) {
            for (int b : batches) {
                rows.add(measure(model, cfg, b));
                Row r = rows.get(rows.size() - 1);
                out.printf("batch %d: forward %.4f s (median of %d; min %.4f, max %.4f), %.1f tokens/s, %.4g GFLOP/s; GEMM ceiling %.4g GFLOP/s; peak RSS %.2f GB%n",
                        r.batch(), r.forwardSeconds(), repeats, r.minSeconds(), r.maxSeconds(), r.tokensPerSecond(), r.forwardGflops(),
                        r.gemmGflops(), r.peakRssBytes() / 1e9);
                out.flush();
            }
        }
        long peak = peakRssBytes();
        out.println();
        out.printf("%-6s %-5s %-10s %-10s %-12s %-13s %-12s %-10s %-10s%n", "batch", "seq", "forward_s", "tokens/s", "fwd_GFLOP/s", "gemm_GFLOP/s",
                "peak_rss_GB", "min_s", "max_s");
        for (Row r : rows) {
            out.printf("%-6d %-5d %-10.4f %-10.1f %-12.4g %-13.4g %-12.2f %-10.4f %-10.4f%n", r.batch(), r.seq(), r.forwardSeconds(), r.tokensPerSecond(),
                    r.forwardGflops(), r.gemmGflops(), r.peakRssBytes() / 1e9, r.minSeconds(), r.maxSeconds());
        }
        out.printf("peak RSS %.2f GB = %.2fx the weights (%.2f GB)%n", peak / 1e9, (double) peak / weightBytes, weightBytes / 1e9);
        out.flush();
        return 0;
    }

    private void validate() {
        if (batches.isEmpty() || batches.stream().anyMatch(b -> b == null || b < 1)) {
            throw new IllegalArgumentException("--batch must be positive integers, got " + batches);
        }
        if (seq < 1) throw new IllegalArgumentException("--seq must be positive, got " + seq);
        if (repeats < 1) throw new IllegalArgumentException("--repeats must be positive, got " + repeats);
        if (warmup < 0) throw new IllegalArgumentException("--warmup must be 0 or more, got " + warmup);
        if (decode < 0) throw new IllegalArgumentException("--decode must be 0 or more, got " + decode);
        if (!weights.equals("random") && !weights.equals("checkpoint")) {
            throw new IllegalArgumentException("--weights must be random or checkpoint, got '" + weights + "'");
        }
        if (weights.equals("checkpoint") && config.equals("gemma-2b")) {
            throw new IllegalArgumentException("--weights checkpoint needs --config DIR (a checkpoint folder), not gemma-2b");
        }
    }

    private LoadedCheckpoint checkpoint() {
        if (config.equals("gemma-2b")) {
            GemmaConfig cfg = GemmaConfig.gemma2b();
            return new LoadedCheckpoint(cfg, GemmaTrainer.initialWeights(cfg, seed), null, "float32");
        }
        Path dir = LabOptions.home().resolve(config).normalize();
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--config: neither gemma-2b nor a folder: " + dir);
        }
        if (weights.equals("checkpoint")) return Checkpoint.load(dir);
        GemmaConfig cfg = GemmaConfigs.read(dir.resolve(Checkpoint.CONFIG_FILE));
        return new LoadedCheckpoint(cfg, GemmaTrainer.initialWeights(cfg, seed), dir, "float32");
    }

    /** One batch size's generation: the whole call, the prompt's forward alone, and peak RSS so far. */
    public record DecodeRow(int batch, int seq, int newTokens, double generateSeconds, double minSeconds, double maxSeconds,
                            double prefillSeconds, long peakRssBytes) {
        double tokensPerSecond() {
            return batch * newTokens / generateSeconds;
        }

        /** The mean one-position step: the call less the prompt's forward, over the N - 1 steps. */
        double stepMillis() {
            return newTokens > 1 ? (generateSeconds - prefillSeconds) / (newTokens - 1) * 1e3 : 0;
        }
    }

    private Integer decodeBench(PrintWriter out, LoadedCheckpoint ckpt, long weightBytes) {
        List<DecodeRow> rows = new ArrayList<>();
        try (GemmaModel model = new GemmaModel(ckpt, null)) {
            for (int b : batches) {
                List<int[]> tokens = randomTokens(ckpt.config(), b);
                GenerationRequest request = new GenerationRequest(tokens, decode, List.of());
                for (int i = 0; i < warmup; i++) model.generate(request, Set.of());
                double[] times = new double[repeats], prefill = new double[repeats];
                for (int i = 0; i < repeats; i++) {
                    long t = System.nanoTime();
                    int[] first = model.generate(request, Set.of()).get(0);
                    times[i] = (System.nanoTime() - t) / 1e9;
                    if (first.length != decode) throw new IllegalStateException("generated " + first.length + " tokens, not " + decode);
                    t = System.nanoTime();
                    model.generate(new GenerationRequest(tokens, 1, List.of()), Set.of());
                    prefill[i] = (System.nanoTime() - t) / 1e9;
                }
                Arrays.sort(times);
                Arrays.sort(prefill);
                DecodeRow r = new DecodeRow(b, seq, decode, median(times), times[0], times[repeats - 1], median(prefill), peakRssBytes());
                rows.add(r);
                out.printf("batch %d: generate %d tokens after %d: %.4f s (median of %d; min %.4f, max %.4f), %.2f tokens/s; prompt forward %.4f s, step %.2f ms; peak RSS %.2f GB%n",
                        b, decode, seq, r.generateSeconds(), repeats, r.minSeconds(), r.maxSeconds(), r.tokensPerSecond(), r.prefillSeconds(),
                        r.stepMillis(), r.peakRssBytes() / 1e9);
                out.flush();
            }
        }
        long peak = peakRssBytes();
        out.println();
        out.printf("%-6s %-5s %-5s %-11s %-10s %-10s %-10s %-12s %-10s %-10s%n", "batch", "seq", "new", "generate_s", "tokens/s", "prefill_s",
                "step_ms", "peak_rss_GB", "min_s", "max_s");
        for (DecodeRow r : rows) {
            out.printf("%-6d %-5d %-5d %-11.4f %-10.2f %-10.4f %-10.2f %-12.2f %-10.4f %-10.4f%n", r.batch(), r.seq(), r.newTokens(), r.generateSeconds(),
                    r.tokensPerSecond(), r.prefillSeconds(), r.stepMillis(), r.peakRssBytes() / 1e9, r.minSeconds(), r.maxSeconds());
        }
        out.printf("peak RSS %.2f GB = %.2fx the weights (%.2f GB)%n", peak / 1e9, (double) peak / weightBytes, weightBytes / 1e9);
        out.flush();
        return 0;
    }

    private List<int[]> randomTokens(GemmaConfig cfg, int batch) {
        Random random = new Random(seed + batch);
        List<int[]> tokens = new ArrayList<>();
        for (int r = 0; r < batch; r++) tokens.add(random.ints(seq, 0, cfg.vocabSize()).toArray());
        return tokens;
    }

    private Row measure(GemmaModel model, GemmaConfig cfg, int batch) {
        List<int[]> tokens = randomTokens(cfg, batch);
        ForwardRequest request = ForwardRequest.of(tokens);
        for (int i = 0; i < warmup; i++) model.run(request);
        double[] times = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t = System.nanoTime();
            model.run(request);
            times[i] = (System.nanoTime() - t) / 1e9;
        }
        Arrays.sort(times);
        double median = median(times);
        double gemm = gemmGflops(model.weights().get("model.layers.0.mlp.gate_proj.weight"), batch * seq);
        return new Row(batch, seq, median, times[0], times[repeats - 1], batch * seq / median,
                forwardFlops(cfg, batch, seq) / median / 1e9, gemm, peakRssBytes());
    }

    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /**
     * GFLOP/s of x [rows, in] @ W^T for W [out, in] as stored (Nd4j.gemm with transposeB), median of the repeats
     * after one warm-up.
     */
    double gemmGflops(INDArray w, int rows) {
        long out = w.size(0), in = w.size(1);
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(DataType.FLOAT, rows, in);
        INDArray c = Nd4j.create(DataType.FLOAT, rows, out);
        Nd4j.gemm(x, w, c, false, true, 1.0, 0.0);
        double[] times = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t = System.nanoTime();
            Nd4j.gemm(x, w, c, false, true, 1.0, 0.0);
            times[i] = (System.nanoTime() - t) / 1e9;
        }
        Arrays.sort(times);
        return 2.0 * rows * out * in / median(times) / 1e9;
    }

    /**
     * Multiply-adds x 2 of one forward as the engine runs it: q/k/v/o and MLP projections, rotary (a d_head x d_head
     * matmul per head row), attention scores and mixing, and last-position logits. Element-wise ops are left out.
     */
    static double forwardFlops(GemmaConfig c, int batch, int seq) {
        double tokens = (double) batch * seq, d = c.hiddenSize(), dh = c.headDim();
        double projections = d * c.numHeads() * dh * 2 + 2 * d * c.numKvHeads() * dh + 3 * d * c.intermediateSize();
        double rotary = (c.numHeads() + c.numKvHeads()) * dh * dh;
        double attention = 2.0 * c.numHeads() * seq * dh;
        double perLayer = 2 * tokens * (projections + rotary + attention);
        return c.numLayers() * perLayer + 2.0 * batch * d * c.vocabSize();
    }

    /** VmHWM of /proc/self/status in bytes; -1 where there is no /proc (not Linux). */
    static long peakRssBytes() {
        return procStatusKb("VmHWM") * 1024;
    }

    static long procStatusKb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** The OpenBLAS shared objects this process has mapped (what a comparison should LD_PRELOAD). */
    static List<String> blasLibraries() {
        Set<String> libs = new LinkedHashSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash >= 0 && line.contains("libopenblas")) libs.add(line.substring(slash));
            }
        } catch (IOException e) {
            return List.of("unknown (" + e.getMessage() + ")");
        }
        return libs.isEmpty() ? List.of("none mapped") : new ArrayList<>(libs);
    }
}
