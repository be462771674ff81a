package org.refusallab.testkit.lab;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.ModelInfo;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.model.TextTokenizer;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.testkit.DTensor;
import org.refusallab.testkit.GemmaReference;
import org.refusallab.testkit.ReferenceRun;

/**
 * The testkit's double-precision reference forward of the tiny test checkpoint, served through the
 * {@link HookedModel} API so analyses can run on it in tests. Also gives tests direct access to the reference for
 * independent computations, and counts forward calls (batched work must stay batched).
 */
public final class ReferenceModel implements HookedModel {

    private static ReferenceModel tiny, tinyGemma2;

    private final GemmaReference reference;
    private final TextTokenizer tokenizer;
    private final ModelInfo info;
    public final AtomicInteger forwardCalls = new AtomicInteger();
    public final AtomicInteger largestBatch = new AtomicInteger();

    private ReferenceModel(GemmaReference reference, TextTokenizer tokenizer, String name) {
        this.reference = reference;
        this.tokenizer = tokenizer;
        GemmaConfig c = reference.config();
        this.info = new ModelInfo(name, c.modelType(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.hiddenSize(), c.headDim(),
                c.intermediateSize(), c.vocabSize(), c.torchDtype(), "float64 (testkit reference)", c.gelu().name(), c.ropeTheta(), c.rmsNormEps());
    }

    /** The tiny Gemma 1 fixture (4 layers, d_model 64, vocab 512) with the word-level test tokenizer. */
    public static synchronized ReferenceModel tiny() {
        if (tiny == null) {
            tiny = load("tiny-gemma", "tiny-gemma/config.json", "tiny-gemma/model.safetensors", "tiny-gemma/tokenizer.json");
        }
        return tiny;
    }

    /**
     * The tiny Gemma 2 fixture of bundles/fixtures (transformers' tiny-gemma2: 4 layers, d_model 64, 4 heads on 2
     * key/value heads, sliding window 4 on layers 0 and 2, attention soft-cap 2, final soft-cap 3, vocab 400) with the
     * word-level test tokenizer cut to its 400 ids (the same words at the same ids as tiny-gemma's).
     */
    public static synchronized ReferenceModel tinyGemma2() {
        if (tinyGemma2 == null) {
            tinyGemma2 = load("tiny-gemma2", "/fixtures/tiny-gemma2/checkpoint/config.json", "/fixtures/tiny-gemma2/checkpoint/model.safetensors",
                    "tiny-gemma2/tokenizer.json");
        }
        return tinyGemma2;
    }

    /** A checkpoint folder of the given class-path resources, for what needs files: config.json, model.safetensors, tokenizer.json. */
    public static Path checkpointFolder(String configJson, String safetensors, String tokenizerJson) throws IOException {
        Path dir = Files.createTempDirectory("reference-model");
        String[][] files = {{configJson, "config.json"}, {safetensors, "model.safetensors"}, {tokenizerJson, "tokenizer.json"}};
        for (String[] f : files) {
            try (InputStream in = ReferenceModel.class.getResourceAsStream(f[0])) {
                if (in == null) throw new IOException("no class-path resource " + f[0] + " next to " + ReferenceModel.class.getName());
                Files.copy(in, dir.resolve(f[1]), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return dir;
    }

    /** The tiny-gemma2 checkpoint as a model folder (config.json, model.safetensors, tokenizer.json), e.g. for {@code run --model}. */
    public static Path tinyGemma2Folder() throws IOException {
        return checkpointFolder("/fixtures/tiny-gemma2/checkpoint/config.json", "/fixtures/tiny-gemma2/checkpoint/model.safetensors",
                "tiny-gemma2/tokenizer.json");
    }

    private static ReferenceModel load(String name, String configJson, String safetensors, String tokenizerJson) {
        try {
            Path dir = checkpointFolder(configJson, safetensors, tokenizerJson);
            TextTokenizer tok;
            try (InputStream in = Files.newInputStream(dir.resolve("tokenizer.json"))) {
                tok = new WordTokenizer(in);
            }
            return new ReferenceModel(GemmaReference.load(dir), tok, name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public GemmaReference reference() {
        return reference;
    }

    @Override
    public ModelInfo info() {
        return info;
    }

    @Override
    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public ForwardResult run(ForwardRequest request) {
        forwardCalls.incrementAndGet();
        largestBatch.accumulateAndGet(request.tokens().size(), Math::max);
        ReferenceRun r = reference.run(request);
        Map<String, Tensor> cache = new HashMap<>();
        for (String h : request.cacheHooks()) {
            java.util.regex.Pattern glob = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(h).replace("*", "\\E[^.]+\\Q"));
            for (var e : r.cache().entrySet()) {
                if (glob.matcher(e.getKey()).matches()) cache.put(e.getKey(), e.getValue().toTensor());
            }
        }
        int len = r.attentionMask()[0].length;
        return new ForwardResult(r.lastLogits().toTensor(), cache, r.padding(), len);
    }

    @Override
    public List<int[]> generate(GenerationRequest request) {
        return reference.generate(request, tokenizer.tokenId("<end_of_turn>"), tokenizer.tokenId("<eos>"));
    }

    /** Logits at the last position of one unpadded sequence, in double, straight from the reference. */
    public double[] lastLogits(int[] tokens, List<org.refusallab.api.model.Intervention> interventions) {
        DTensor l = reference.run(List.of(tokens), interventions).lastLogits();
        return l.row(0);
    }

    /**
     * Greedy decoding by hand, one full double-precision forward per step: {@code edits} gives that step's
     * interventions for the sequence so far (e.g. a patch source extended to its length); stops after {@code maxNew}
     * tokens or after any of {@code stops} (which is kept). The independent check of batched, cached decoding.
     */
    public int[] greedy(int[] prompt, int maxNew, java.util.function.Function<int[], List<org.refusallab.api.model.Intervention>> edits, int... stops) {
        int[] seq = prompt.clone();
        int n = 0;
        int[] out = new int[maxNew];
        while (n < maxNew) {
            double[] logits = lastLogits(seq, edits.apply(seq));
            int next = 0;
            for (int i = 1; i < logits.length; i++) if (logits[i] > logits[next]) next = i;
            out[n++] = next;
            seq = java.util.Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = next;
            boolean stop = false;
            for (int s : stops) stop |= next == s;
            if (stop) break;
        }
        return java.util.Arrays.copyOf(out, n);
    }

    @Override
    public Tensor unembedMatrix() {
        double[][] e = reference.embedding();
        float[] data = new float[e.length * e[0].length];
        int d = e[0].length;
        for (int v = 0; v < e.length; v++) for (int i = 0; i < d; i++) data[i * e.length + v] = (float) e[v][i];
        return new Tensor(new long[] {d, e.length}, data);
    }

    @Override
    public Tensor embedMatrix() {
        double[][] e = reference.embedding();
        float[] data = new float[e.length * e[0].length];
        for (int v = 0; v < e.length; v++) for (int i = 0; i < e[v].length; i++) data[v * e[v].length + i] = (float) e[v][i];
        return new Tensor(new long[] {e.length, e[0].length}, data);
    }

    @Override
    public Tensor attnOutMatrix(int layer) {
        double[][][] w = reference.attnOut(layer);
        int h = w.length, dh = w[0].length, d = w[0][0].length;
        float[] data = new float[h * dh * d];
        for (int a = 0; a < h; a++) for (int b = 0; b < dh; b++) for (int c = 0; c < d; c++) data[(a * dh + b) * d + c] = (float) w[a][b][c];
        return new Tensor(new long[] {h, dh, d}, data);
    }

    @Override
    public Tensor attnValueMatrix(int layer) {
        double[][][] w = reference.attnValue(layer);
        int k = w.length, d = w[0].length, dh = w[0][0].length;
        float[] data = new float[k * d * dh];
        for (int a = 0; a < k; a++) for (int b = 0; b < d; b++) for (int c = 0; c < dh; c++) data[(a * d + b) * dh + c] = (float) w[a][b][c];
        return new Tensor(new long[] {k, d, dh}, data);
    }

    @Override
    public org.refusallab.api.model.Architecture architecture() {
        GemmaConfig.Gemma2 g = reference.config().gemma2();
        return g == null ? org.refusallab.api.model.Architecture.GEMMA
                : new org.refusallab.api.model.Architecture(reference.config().modelType(), g.finalLogitSoftcap(), g.attnLogitSoftcap(), g.slidingWindow(), true);
    }

    @Override
    public float[] postAttentionNormWeight(int layer) {
        double[] w = reference.postAttentionNormWeight(layer);
        float[] out = new float[w.length];
        for (int i = 0; i < w.length; i++) out[i] = (float) w[i];
        return out;
    }

    @Override
    public float[] finalNormWeight() {
        double[] w = reference.finalNormWeight();
        float[] out = new float[w.length];
        for (int i = 0; i < w.length; i++) out[i] = (float) w[i];
        return out;
    }
}
