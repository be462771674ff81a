package org.refusallab.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.eigen.Eigen;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.ModelInfo;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.model.TextTokenizer;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.LoadedCheckpoint;
import org.refusallab.engine.graph.GemmaGraph;
import org.refusallab.engine.graph.GemmaSegments;
import org.refusallab.engine.graph.HookListener;
import org.refusallab.engine.graph.HookPoints;
import org.refusallab.engine.graph.KvCache;
import org.refusallab.engine.graph.SharedRows;

/**
 * A loaded Gemma checkpoint behind the {@link HookedModel} service: pads batches on the left, builds the attention
 * bias and position ids, runs the SameDiff graph with a one-call {@link HookListener}, and decodes greedily.
 * Calls are serialised: the graph's array holders are not safe for concurrent use.
 */
public final class GemmaModel implements HookedModel, AutoCloseable {

    /** Additive attention bias for masked keys: finite so a fully masked (padding) query row stays NaN-free. */
    static final float MASKED = -1e9f;

    private final GemmaConfig config;
    private final Map<String, INDArray> weights;
    private final TextTokenizer tokenizer;
    private final ModelInfo info;
    private final GemmaSegments segments;
    private final Set<String> hookNames;
    /** Whether forwards run rows that share their state up to a layer once ({@link SharedRows}); off for comparisons. */
    private volatile boolean sharing = true;
    private INDArray[] unembeddingEigen; // lazily: singular values, right singular vectors

    public GemmaModel(LoadedCheckpoint checkpoint, TextTokenizer tokenizer) {
        this.config = checkpoint.config();
        this.weights = checkpoint.weights();
        this.tokenizer = tokenizer;
        this.hookNames = new LinkedHashSet<>(HookPoints.all(config));
        this.segments = new GemmaSegments(config, weights);
        this.info = new ModelInfo(String.valueOf(checkpoint.dir()), config.modelType(), config.numLayers(), config.numHeads(),
                config.numKvHeads(), config.hiddenSize(), config.headDim(), config.intermediateSize(), config.vocabSize(),
                checkpoint.storedDtype(), "float32", config.gelu() == GemmaConfig.Gelu.EXACT ? "exact (erf)" : "tanh approximation",
                config.ropeTheta(), config.rmsNormEps());
    }

    public GemmaConfig config() {
        return config;
    }

    public Map<String, INDArray> weights() {
        return weights;
    }

    @Override
    public ModelInfo info() {
        return info;
    }

    @Override
    public TextTokenizer tokenizer() {
        if (tokenizer == null) throw new IllegalStateException("checkpoint " + info.checkpoint() + " has no tokenizer.json");
        return tokenizer;
    }

    /** A left-padded batch: ids, mask, position ids, and each row's padding. */
    record Batch(int[][] ids, int[][] mask, int[] padding, int length) {

        static Batch of(List<int[]> seqs, int padId, int vocab) {
            return of(seqs, padId, vocab, 0);
        }

        /** @param minLength pad on the left to at least this many positions (0: to the longest row) */
        static Batch of(List<int[]> seqs, int padId, int vocab, int minLength) {
            int len = minLength;
            for (int r = 0; r < seqs.size(); r++) {
                int[] s = seqs.get(r);
                if (s == null || s.length == 0) throw new IllegalArgumentException("row " + r + " of the batch has no tokens");
                for (int id : s) {
                    // An id outside the vocabulary would crash the JVM inside the native gather.
                    if (id < 0 || id >= vocab) throw new IllegalArgumentException("token id " + id + " in row " + r + " is outside the vocabulary [0, " + vocab + ")");
                }
                len = Math.max(len, s.length);
            }
            int[][] ids = new int[seqs.size()][len], mask = new int[seqs.size()][len];
            int[] padding = new int[seqs.size()];
            for (int r = 0; r < seqs.size(); r++) {
                int[] s = seqs.get(r);
                padding[r] = len - s.length;
                Arrays.fill(ids[r], 0, padding[r], padId);
                System.arraycopy(s, 0, ids[r], padding[r], s.length);
                Arrays.fill(mask[r], padding[r], len, 1);
            }
            return new Batch(ids, mask, padding, len);
        }

        /** Position ids (cumsum(mask) - 1, as transformers) and the additive attention bias (causal and padding). */
        GemmaSegments.BlockInputs blockInputs(GemmaSegments segments) {
            int b = ids.length;
            int[][] pos = new int[b][length];
            float[] bias = new float[b * length * length];
            for (int r = 0; r < b; r++) {
                int count = 0;
                for (int p = 0; p < length; p++) {
                    count += mask[r][p];
                    pos[r][p] = Math.max(count - 1, 0);
                    for (int k = 0; k < length; k++) {
                        boolean visible = k <= p && mask[r][k] == 1;
                        bias[(r * length + p) * length + k] = visible ? 0f : MASKED;
                    }
                }
            }
            return segments.blockInputs(pos, bias);
        }
    }

    /** One hooked forward: the padded batch, the last-position logits, and the cache (full logits included when asked). */
    private record Forward(Batch batch, INDArray lastLogits, Map<String, INDArray> cache) { }

    private Forward forward(List<int[]> tokens, Set<String> hookPatterns, List<Intervention> interventions) {
        return forward(tokens, hookPatterns, interventions, 0);
    }

    private Forward forward(List<int[]> tokens, Set<String> hookPatterns, List<Intervention> interventions, int minLength) {
        Set<String> cacheHooks = HookPoints.expand(hookPatterns, config);
        for (Intervention iv : interventions) {
            if (!hookNames.contains(iv.hook())) throw new IllegalArgumentException("intervention at unknown hook point '" + iv.hook() + "'");
        }
        Batch batch = Batch.of(tokens, config.padTokenId(), config.vocabSize(), minLength);
        // attn.hook_result exists only in the per-head variant of the blocks
        boolean perHead = cacheHooks.stream().anyMatch(h -> h.endsWith("attn.hook_result"))
                || interventions.stream().anyMatch(iv -> iv.hook().endsWith("attn.hook_result"));
        HookListener listener = new HookListener(interventions, cacheHooks);
        boolean fullLogits = cacheHooks.contains(GemmaGraph.LOGITS) || listener.interventionHooks().contains(GemmaGraph.LOGITS);
        // rows that are the same up to a layer (a patching sweep's copies, below their patched layer) run it once
        SharedRows shared = cacheHooks.isEmpty() && !fullLogits && sharing ? SharedRows.of(batch.ids(), interventions, config.numLayers()) : null;
        Map<String, INDArray> out = shared != null ? segments.forwardShared(batch.ids(), batch.blockInputs(segments), shared, perHead)
                : segments.forward(batch.ids(), batch.blockInputs(segments), listener, perHead, fullLogits);
        Map<String, INDArray> cache = new LinkedHashMap<>();
        for (String h : cacheHooks) {
            INDArray a = listener.cache().get(h);
            if (a == null && h.equals(GemmaGraph.LOGITS)) a = out.get(GemmaGraph.LOGITS);
            if (a == null) throw new IllegalStateException("hook " + h + " did not run in this forward");
            cache.put(h, a);
        }
        return new Forward(batch, out.get(GemmaGraph.LAST_LOGITS), cache);
    }

    /** Turns {@link SharedRows} on or off (on by default): the same numbers either way, to float rounding. */
    public void shareRows(boolean on) {
        this.sharing = on;
    }

    @Override
    public synchronized ForwardResult run(ForwardRequest request) {
        Forward f = forward(request.tokens(), request.cacheHooks(), request.interventions());
        Map<String, Tensor> cache = new LinkedHashMap<>();
        f.cache().forEach((h, a) -> cache.put(h, toTensor(a)));
        return new ForwardResult(toTensor(f.lastLogits()), cache, f.batch().padding(), f.batch().length());
    }

    /** Full-sequence logits [batch, pos, vocab] and the hooks asked for, as ND4J arrays: for checks against reference implementations. */
    public synchronized Map<String, INDArray> runRaw(List<int[]> tokens, Set<String> hooks, List<Intervention> interventions) {
        Set<String> withLogits = new LinkedHashSet<>(hooks);
        withLogits.add(GemmaGraph.LOGITS);
        return forward(tokens, withLogits, interventions).cache();
    }

    @Override
    public List<int[]> generate(GenerationRequest request) {
        Set<Integer> stops = new LinkedHashSet<>();
        stops.add(config.eosTokenId());
        if (tokenizer != null) {
            try {
                stops.add(tokenizer.tokenId("<end_of_turn>"));
            } catch (IllegalArgumentException noChatTokens) {
                // a tokenizer without Gemma's chat tokens stops at eos only
            }
        }
        return generate(request, stops);
    }

    /**
     * Greedy decoding with per-layer key/value caches; ties go to the lowest id, like torch.argmax. One forward over
     * the left-padded prompts fills the caches (padded to a multiple of {@link #GENERATION_LENGTH_STEP} positions when
     * no intervention names positions, so that prompt batches of nearby lengths share an execution plan), then each
     * step runs the new position only, attending to the cached slots. The caches have a fixed number of slots for
     * the whole call (rounded up likewise), masked where not yet written, so every step replays one plan. Rows that
     * have stopped keep being fed their argmax (their tokens are dropped), so that row indices of interventions stay
     * valid. Interventions act at every step as in a full forward over the sequence so far (see {@link #atStep}).
     */
    public synchronized List<int[]> generate(GenerationRequest request, Set<Integer> stopIds) {
        List<int[]> prompts = request.prompts();
        List<Intervention> interventions = request.interventions();
        int b = prompts.size();
        for (Intervention iv : interventions) {
            if (!hookNames.contains(iv.hook())) throw new IllegalArgumentException("intervention at unknown hook point '" + iv.hook() + "'");
        }
        boolean pad = interventions.stream().allMatch(iv -> iv.positions() == null && iv.source() == null);
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
        Batch batch = Batch.of(prompts, config.padTokenId(), config.vocabSize(), pad ? roundUp(longest, GENERATION_LENGTH_STEP) : 0);
        int promptLength = batch.length();
        int slots = roundUp(promptLength + request.maxNewTokens() - 1, GENERATION_LENGTH_STEP);
        boolean perHead = interventions.stream().anyMatch(iv -> iv.hook().endsWith("attn.hook_result"));
        boolean fullLogits = interventions.stream().anyMatch(iv -> iv.hook().equals(GemmaGraph.LOGITS));
        KvCache cache = new KvCache(config, b, slots);

        HookListener prompt = new HookListener(interventions, Set.of());
        INDArray logits = segments.forward(batch.ids(), batch.blockInputs(segments), prompt, perHead, fullLogits, cache, false)
                .get(GemmaGraph.LAST_LOGITS);
        List<List<Integer>> produced = new ArrayList<>();
        for (int r = 0; r < b; r++) produced.add(new ArrayList<>());
        boolean[] done = new boolean[b];
        int[][] fed = new int[b][1], positions = new int[b][1];
        int keys = slots + 1; // the cache's slots, then the new position's own key
        float[] bias = new float[b * keys];
        float[] localBias = config.isGemma2() && anySlidingLayer() ? new float[b * keys] : null;
        for (int step = 0; ; step++) {
            boolean allDone = true;
            for (int r = 0; r < b; r++) {
                int next = argmax(logits.getRow(r).toFloatVector());
                fed[r][0] = next;
                if (!done[r]) {
                    if (stopIds.contains(next)) done[r] = true;
                    else produced.get(r).add(next);
                }
                allDone &= done[r];
            }
            if (allDone || step + 1 >= request.maxNewTokens()) break;
            int at = promptLength + step; // the fed token's index in the padded batch, and its cache slot
            for (int r = 0; r < b; r++) {
                positions[r][0] = prompts.get(r).length + step;
                for (int k = 0; k < keys; k++) {
                    boolean visible = k == slots || (k < at && (k >= promptLength || batch.mask()[r][k] == 1));
                    bias[r * keys + k] = visible ? 0f : MASKED;
                    if (localBias != null) {
                        int distance = k == slots ? 0 : at - k;
                        localBias[r * keys + k] = visible && distance < config.gemma2().slidingWindow() ? 0f : MASKED;
                    }
                }
            }
            List<Intervention> edits = new ArrayList<>();
            for (Intervention iv : interventions) {
                Intervention e = atStep(iv, at);
                if (e != null) edits.add(e);
            }
            cache.writeAt(at);
            logits = segments.forward(fed, segments.stepInputs(positions, bias, localBias, keys), new HookListener(edits, Set.of()),
                    perHead, fullLogits, cache, true).get(GemmaGraph.LAST_LOGITS);
        }
        List<int[]> out = new ArrayList<>();
        for (List<Integer> p : produced) out.add(p.stream().mapToInt(Integer::intValue).toArray());
        return out;
    }

    private boolean anySlidingLayer() {
        for (int l = 0; l < config.numLayers(); l++) if (config.isSlidingLayer(l)) return true;
        return false;
    }

    private static int roundUp(int n, int step) {
        return (n + step - 1) / step * step;
    }

    /**
     * What an intervention does in a decoding step whose one position has index {@code at} in the padded batch,
     * exactly as in a full forward over the sequence so far: positions null act on it; explicit positions act on it
     * if they name {@code at}, else the step is left alone (they acted on the prompt's forward); a REPLACE takes the
     * source's position {@code at}, which it must have. Edits of attention scores or patterns other than zeroing
     * cannot act on a step (their last axis is the cache's slots, not the sequence's keys) and are refused.
     *
     * @return the edit of the step's activation (positions: the step's one position, 0), or null
     */
    static Intervention atStep(Intervention iv, int at) {
        int[] positions = iv.positions();
        if (positions != null && Arrays.stream(positions).noneMatch(p -> p == at)) return null;
        HookPoints.Layout layout = HookPoints.layout(iv.hook());
        if (layout == HookPoints.Layout.HEAD_QUERY && iv.kind() != Intervention.Kind.ZERO) {
            throw new IllegalArgumentException("intervention " + iv.describe() + ": cached generation can only zero " + iv.hook()
                    + " at generated positions (its key axis holds cache slots)");
        }
        Intervention e = positions == null ? iv : iv.withPositions(new int[] {0});
        if (iv.kind() == Intervention.Kind.REPLACE) {
            Tensor src = iv.source();
            if (src.rank() < 2 || src.dim(1) <= at) {
                throw new IllegalArgumentException("intervention " + iv.describe() + ": generation reaches position " + at
                        + " but the source has " + (src.rank() < 2 ? 0 : src.dim(1)) + " positions");
            }
            e = e.withSource(positionOf(src, at), iv.sourceRows());
        }
        return e;
    }

    /** source[:, at:at+1, ...]. */
    private static Tensor positionOf(Tensor source, int at) {
        long[] shape = source.shape().clone();
        int rows = (int) shape[0], len = (int) shape[1], width = source.data().length / (rows * len);
        float[] data = new float[rows * width];
        for (int r = 0; r < rows; r++) System.arraycopy(source.data(), (r * len + at) * width, data, r * width, width);
        shape[1] = 1;
        return new Tensor(shape, data);
    }

    /** Greedy decoding with a full forward over the whole sequence per step: the reference cached decoding is tested against. */
    public List<int[]> generateFullForward(GenerationRequest request, Set<Integer> stopIds) {
        int b = request.prompts().size();
        List<int[]> seqs = new ArrayList<>(request.prompts());
        List<List<Integer>> produced = new ArrayList<>();
        boolean[] done = new boolean[b];
        for (int r = 0; r < b; r++) produced.add(new ArrayList<>());
        for (int step = 0; step < request.maxNewTokens(); step++) {
            ForwardResult fr = nextTokenLogits(seqs, request.interventions());
            boolean allDone = true;
            for (int r = 0; r < b; r++) {
                int next = argmax(fr.lastLogits().row(r));
                int[] s = seqs.get(r);
                int[] grown = Arrays.copyOf(s, s.length + 1);
                grown[s.length] = next;
                seqs.set(r, grown);
                if (!done[r]) {
                    if (stopIds.contains(next)) done[r] = true;
                    else produced.get(r).add(next);
                }
                allDone &= done[r];
            }
            if (allDone) break;
        }
        List<int[]> out = new ArrayList<>();
        for (List<Integer> p : produced) out.add(p.stream().mapToInt(Integer::intValue).toArray());
        return out;
    }

    /**
     * Decoding pads the prompt batch (and the full-forward decoding each step's batch) on the left to a multiple of
     * this many positions, so that nearby lengths reuse an execution plan instead of planning a new length (planning
     * a toy-sized forward costs about what a whole SameDiff forward did; replaying one, a twentieth). Padding is
     * masked: the real positions' logits do not depend on it (the test compares with unpadded steps).
     */
    static final int GENERATION_LENGTH_STEP = 8;

    /** One decoding step's last-position logits; padded to {@link #GENERATION_LENGTH_STEP} unless an intervention names positions. */
    private synchronized ForwardResult nextTokenLogits(List<int[]> seqs, List<Intervention> interventions) {
        // positions and replacement sources are laid out by the padded length: keep it the caller's there
        boolean pad = interventions.stream().allMatch(iv -> iv.positions() == null && iv.source() == null);
        int longest = seqs.stream().mapToInt(s -> s.length).max().orElse(0);
        int minLength = pad ? roundUp(longest, GENERATION_LENGTH_STEP) : 0;
        Forward f = forward(seqs, Set.of(), interventions, minLength);
        return new ForwardResult(toTensor(f.lastLogits()), Map.of(), f.batch().padding(), f.batch().length());
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private INDArray embedding() {
        return weights.get("model.embed_tokens.weight");
    }

    public Tensor unembeddingRows(int[] tokenIds) {
        for (int id : tokenIds) {
            if (id < 0 || id >= config.vocabSize()) throw new IllegalArgumentException("token id " + id + " outside the vocabulary");
        }
        return toTensor(embedding().getRows(tokenIds));
    }

    public float[] unembeddingMeanExcept(int[] tokenIds) {
        INDArray sum = Nd4j.zeros(DataType.DOUBLE, config.hiddenSize());
        int v = config.vocabSize(), chunk = 8192;
        for (int start = 0; start < v; start += chunk) { // in double, a chunk at a time (W_U is 2 GB for gemma-2b)
            sum.addi(embedding().get(NDArrayIndex.interval(start, Math.min(v, start + chunk)), NDArrayIndex.all()).castTo(DataType.DOUBLE).sum(0));
        }
        Set<Integer> seen = new LinkedHashSet<>();
        for (int id : tokenIds) if (seen.add(id)) sum.subi(embedding().getRow(id).castTo(DataType.DOUBLE));
        return sum.divi(config.vocabSize() - seen.size()).castTo(DataType.FLOAT).toFloatVector();
    }

    public float[] unembeddingCosines(float[] direction) {
        INDArray dir = Nd4j.createFromArray(direction).reshape(direction.length, 1);
        INDArray dots = embedding().mmul(dir).reshape(config.vocabSize()); // [vocab]
        INDArray norms = embedding().norm2(1).reshape(config.vocabSize());
        return dots.divi(norms).divi(dir.norm2Number().doubleValue()).toFloatVector();
    }

    public synchronized Tensor unembeddingSingularValues() {
        return toTensor(unembeddingEigen()[0]);
    }

    public synchronized Tensor unembeddingRightSingularVectors() {
        return toTensor(unembeddingEigen()[1]);
    }

    /**
     * Singular values of W_U [vocab, d_model] from the eigen-decomposition of its Gram matrix W_U^T W_U [d, d],
     * accumulated in double over row chunks (W_U itself is too large to decompose or to copy to double at once).
     */
    private INDArray[] unembeddingEigen() {
        if (unembeddingEigen == null) {
            int d = config.hiddenSize(), v = config.vocabSize(), chunk = 8192;
            INDArray gram = Nd4j.zeros(DataType.DOUBLE, d, d);
            for (int start = 0; start < v; start += chunk) {
                INDArray rows = embedding().get(NDArrayIndex.interval(start, Math.min(v, start + chunk)), NDArrayIndex.all()).castTo(DataType.DOUBLE);
                gram.addi(rows.transpose().mmul(rows));
            }
            INDArray eigenvalues = Eigen.symmetricGeneralizedEigenvalues(gram, true); // ascending; gram now holds vectors
            int[] order = new int[d];
            for (int i = 0; i < d; i++) order[i] = d - 1 - i; // descending
            INDArray values = Nd4j.create(DataType.DOUBLE, d);
            for (int i = 0; i < d; i++) values.putScalar(i, Math.sqrt(Math.max(0, eigenvalues.getDouble(order[i]))));
            INDArray vectors = gram.getColumns(order);
            unembeddingEigen = new INDArray[] {values.castTo(DataType.FLOAT), vectors.castTo(DataType.FLOAT)};
        }
        return unembeddingEigen;
    }

    @Override
    public synchronized Tensor unembedMatrix() {
        return toTensor(embedding().transpose()); // tied: W_U = W_E^T, [d_model, vocab]
    }

    @Override
    public synchronized Tensor embedMatrix() {
        return toTensor(embedding());
    }

    @Override
    public synchronized Tensor attnOutMatrix(int layer) {
        if (layer < 0 || layer >= config.numLayers()) throw new IllegalArgumentException("layer " + layer + " outside 0.." + (config.numLayers() - 1));
        // o_proj.weight is [d_model, n_heads * d_head] (out, in): W_O[h] = its columns of head h, transposed
        INDArray o = weights.get("model.layers." + layer + ".self_attn.o_proj.weight");
        int h = config.numHeads(), dh = config.headDim(), d = config.hiddenSize();
        return toTensor(o.transpose().dup('c').reshape(h, dh, d));
    }

    @Override
    public synchronized Tensor attnValueMatrix(int layer) {
        if (layer < 0 || layer >= config.numLayers()) throw new IllegalArgumentException("layer " + layer + " outside 0.." + (config.numLayers() - 1));
        // v_proj.weight is [n_kv * d_head, d_model] (out, in): W_V[kv] = its rows of kv head kv, transposed
        INDArray v = weights.get("model.layers." + layer + ".self_attn.v_proj.weight");
        int kv = config.numKvHeads(), dh = config.headDim(), d = config.hiddenSize();
        return toTensor(v.dup('c').reshape(kv, dh, d).permute(0, 2, 1).dup('c'));
    }

    @Override
    public org.refusallab.api.model.Architecture architecture() {
        GemmaConfig.Gemma2 g = config.gemma2();
        return g == null ? org.refusallab.api.model.Architecture.GEMMA
                : new org.refusallab.api.model.Architecture(config.modelType(), g.finalLogitSoftcap(), g.attnLogitSoftcap(), g.slidingWindow(), true);
    }

    @Override
    public float[] postAttentionNormWeight(int layer) {
        if (!config.isGemma2()) return org.refusallab.api.model.HookedModel.super.postAttentionNormWeight(layer);
        if (layer < 0 || layer >= config.numLayers()) throw new IllegalArgumentException("layer " + layer + " outside 0.." + (config.numLayers() - 1));
        return weights.get(org.refusallab.checkpoint.GemmaTensors.postAttentionLayernorm(layer)).castTo(DataType.FLOAT).toFloatVector();
    }

    @Override
    public float[] finalNormWeight() {
        return weights.get("model.norm.weight").castTo(DataType.FLOAT).toFloatVector();
    }

    static Tensor toTensor(INDArray a) {
        INDArray c = a.dataType() == DataType.FLOAT && a.ordering() == 'c' && !a.isView() ? a : a.castTo(DataType.FLOAT).dup('c');
        return new Tensor(c.shape(), c.data().asFloat());
    }

    @Override
    public synchronized void close() {
        segments.clear();
    }
}
