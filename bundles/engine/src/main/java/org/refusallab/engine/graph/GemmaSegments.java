package org.refusallab.engine.graph;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.GemmaTensors;

/**
 * The inference graphs of one model (embedding, blocks, head) and the forward pass that runs them in order:
 * {@code x = embed(ids); for each block x = block(x); logits = head(x)}. Graphs are built on first use for each
 * variant (with or without per-head results) and share the weight arrays; each runs through a {@link PlannedGraph}
 * plan made once per input shape.
 */
public final class GemmaSegments {

    private final GemmaConfig cfg;
    private final Map<String, INDArray> weights;
    private final float[] cosTable, sinTable; // [max_pos, d_head], row-major
    private final Map<GemmaGraph.Variant, PlannedGraph[]> blocks = new HashMap<>();
    private final Map<Boolean, PlannedGraph> heads = new HashMap<>();
    private PlannedGraph embedding;
    /** Execution plans by input shape and variant, least recently used first. Not thread-safe: callers serialise. */
    private final LinkedHashMap<String, Plans> plans = new LinkedHashMap<>(16, 0.75f, true);
    /**
     * At most this many bytes held by plans alone (arena buffers replaced since they were planned) and this many plans
     * stay cached. The arenas' current buffers are shared by every plan and not counted: a forward of a smaller
     * batch than one planned before costs no memory of its own (SharedRows runs several such sizes per forward).
     */
    private final long planBudgetBytes;
    private static final int MAX_PLANS = 64;

    /**
     * ND4J frees an array's off-heap memory only once the garbage collector has found its Java object, and a forward
     * makes little Java garbage, so collections are rare while freed activations pile up off-heap (gemma-2b, B=24:
     * peak RSS 1.35x the weights, with SameDiff's sessions). Planned forwards reuse their activations, so what
     * piles up now is inputs, copies of outputs and hooks, and evicted plans. After each forward, if the resident set
     * has grown more than this past what it was when the weights were in place, ask for a collection (at most once
     * per {@link #MIN_GC_INTERVAL_NS}).
     */
    private final long gcAboveRssBytes;
    private static final long MIN_GC_INTERVAL_NS = 1_000_000_000L;
    private long lastGcNanos = System.nanoTime() - MIN_GC_INTERVAL_NS;
    /** Reading the resident set is a /proc read (2.5% of a toy forward's wall time): at most this often. */
    private static final long MIN_RSS_CHECK_INTERVAL_NS = 50_000_000L;
    private long lastRssCheckNanos;

    public GemmaSegments(GemmaConfig cfg, Map<String, INDArray> weights) {
        this.cfg = cfg;
        this.weights = weights;
        this.gcAboveRssBytes = Pointer.physicalBytes() + Math.max(512L << 20, GemmaTensors.totalBytes(weights) / 10);
        this.planBudgetBytes = Math.max(256L << 20, GemmaTensors.totalBytes(weights) / 16);
        INDArray[] tables = GemmaGraph.rotaryTables(cfg.maxPositionEmbeddings(), cfg.headDim(), cfg.ropeTheta());
        this.cosTable = tables[0].data().asFloat();
        this.sinTable = tables[1].data().asFloat();
    }

    /**
     * Inputs every block reads: rotary cos/sin gathered at each position id, and the additive attention bias; for a
     * step of cached decoding also the bias of local (sliding-window) layers, which the blocks then take as given.
     */
    public record BlockInputs(INDArray cos, INDArray sin, INDArray bias, INDArray localBias) {
        public BlockInputs(INDArray cos, INDArray sin, INDArray bias) {
            this(cos, sin, bias, null);
        }

        public Map<String, INDArray> with(INDArray x) {
            return Map.of(GemmaGraph.RESID_IN, x, GemmaGraph.ROPE_COS, cos, GemmaGraph.ROPE_SIN, sin, GemmaGraph.ATTENTION_BIAS, bias);
        }

        /** These inputs for the given rows of the batch only, in that order. */
        BlockInputs rows(int[] rows) {
            return new BlockInputs(gatherRows(cos, rows), gatherRows(sin, rows), gatherRows(bias, rows), localBias == null ? null : gatherRows(localBias, rows));
        }

        /** Layer {@code layer}'s inputs when its queries attend to the cache's slots before their own keys. */
        Map<String, INDArray> withPast(INDArray x, int layer, boolean sliding, KvCache past) {
            return Map.of(GemmaGraph.RESID_IN, x, GemmaGraph.ROPE_COS, cos, GemmaGraph.ROPE_SIN, sin,
                    GemmaGraph.ATTENTION_BIAS, sliding && localBias != null ? localBias : bias,
                    GemmaGraph.PAST_KEYS, past.keys(layer), GemmaGraph.PAST_VALUES, past.values(layer));
        }
    }

    /**
     * @param positionIds [batch][pos]
     * @param bias        additive attention bias, [batch, 1, pos, pos] flattened in row-major order
     */
    public BlockInputs blockInputs(int[][] positionIds, float[] bias) {
        INDArray[] rope = rotary(positionIds);
        int b = positionIds.length, s = positionIds[0].length;
        return new BlockInputs(rope[0], rope[1], Nd4j.create(bias, new long[] {b, 1, s, s}, 'c'));
    }

    /** cos and sin [batch, pos, 1, d_head] at each position id. */
    private INDArray[] rotary(int[][] positionIds) {
        int b = positionIds.length, s = positionIds[0].length, dh = cfg.headDim();
        // gathered in Java: INDArray.getRows copies row by row through views (a quarter of a toy forward's time)
        float[] cos = new float[b * s * dh], sin = new float[b * s * dh];
        for (int r = 0; r < b; r++) {
            for (int p = 0; p < s; p++) {
                int pos = positionIds[r][p];
                if (pos >= cfg.maxPositionEmbeddings()) {
                    throw new IllegalArgumentException("position " + pos + " exceeds max_position_embeddings " + cfg.maxPositionEmbeddings());
                }
                System.arraycopy(cosTable, pos * dh, cos, (r * s + p) * dh, dh);
                System.arraycopy(sinTable, pos * dh, sin, (r * s + p) * dh, dh);
            }
        }
        long[] shape = {b, s, 1, dh};
        return new INDArray[] {Nd4j.create(cos, shape, 'c'), Nd4j.create(sin, shape, 'c')};
    }

    /**
     * A decoding step's inputs: the new positions' position ids [batch][pos] and the biases over the cache's slots
     * followed by the new positions, [batch, 1, pos, slots + pos] flattened (local: with the sliding window; null
     * for a model without local layers).
     */
    public BlockInputs stepInputs(int[][] positionIds, float[] bias, float[] localBias, int keys) {
        INDArray[] rope = rotary(positionIds);
        long[] shape = {positionIds.length, 1, positionIds[0].length, keys};
        return new BlockInputs(rope[0], rope[1], Nd4j.create(bias, shape, 'c'), localBias == null ? null : Nd4j.create(localBias, shape, 'c'));
    }

    /** Runs embedding, blocks and head; returns last_logits and, if asked, the full logits (copies the caller owns). */
    public Map<String, INDArray> forward(int[][] ids, BlockInputs in, PlannedGraph.Watcher watcher, boolean perHeadResult, boolean fullLogits) {
        return forward(ids, in, watcher, perHeadResult, fullLogits, null, false);
    }

    /**
     * The same, writing every layer's keys and values of these positions into {@code cache} from its current slot
     * on; with {@code attendToCache} the queries also attend to the cache's earlier slots ({@code in} from
     * {@link #stepInputs}): a step of cached decoding.
     */
    public Map<String, INDArray> forward(int[][] ids, BlockInputs in, PlannedGraph.Watcher watcher, boolean perHeadResult, boolean fullLogits,
                                         KvCache cache, boolean attendToCache) {
        try {
            INDArray idArray = Nd4j.createFromArray(ids);
            PlannedGraph.Watcher w = cache == null ? watcher : cache.filling(watcher);
            String slots = attendToCache ? "past" + cache.capacity() : "";
            Plans p = plans(planKey(ids.length, ids[0].length, perHeadResult, fullLogits, slots));
            PlannedGraph[] blockGraphs = blocks(perHeadResult, attendToCache);
            INDArray x = p.run(0, embedding(), embedArena, Map.of(GemmaGraph.INPUT_IDS, idArray), w).get(GemmaGraph.EMBED_OUT);
            for (int layer = 0; layer < blockGraphs.length; layer++) {
                Map<String, INDArray> inputs = attendToCache ? in.withPast(x, layer, cfg.isSlidingLayer(layer), cache) : in.with(x);
                x = p.run(1 + layer, blockGraphs[layer], blockArenas[layer % 2], inputs, w).get(GemmaGraph.blockOutput(layer));
            }
            Map<String, INDArray> out = p.run(1 + blockGraphs.length, head(fullLogits), headArena,
                    Map.of(GemmaGraph.RESID_IN, x, GemmaGraph.LAST_INDEX, Nd4j.createFromArray(new int[] {ids[0].length - 1})), w);
            Map<String, INDArray> copies = new LinkedHashMap<>();
            out.forEach((k, v) -> copies.put(k, v.dup()));
            evictBeyondBudget(p);
            collectIfGrown();
            return copies;
        } finally {
            PlannedGraph.restoreBlasThreads(); // small products ran on one thread
        }
    }

    /**
     * {@link #forward} for a batch where rows share their state up to some segment ({@link SharedRows}): each segment
     * runs on one row per state, gathered from the previous segment's rows when the states split, and the last
     * logits are spread back to every row. No hooks are cached and the full logits are not returned.
     */
    public Map<String, INDArray> forwardShared(int[][] ids, BlockInputs in, SharedRows shared, boolean perHeadResult) {
        try {
            int n = cfg.numLayers(), length = ids[0].length;
            PlannedGraph[] blockGraphs = blocks(perHeadResult, false);
            int[] rows = padded(shared.active(0), ids.length);
            int[][] runIds = new int[rows.length][];
            for (int i = 0; i < rows.length; i++) runIds[i] = ids[rows[i]];
            Plans p = plans(planKey(rows.length, length, perHeadResult, false, ""));
            INDArray x = p.run(0, embedding(), embedArena, Map.of(GemmaGraph.INPUT_IDS, Nd4j.createFromArray(runIds)), shared.listener(0))
                    .get(GemmaGraph.EMBED_OUT);
            BlockInputs runIn = in.rows(rows);
            int running = shared.active(0).length;
            for (int s = 1; s <= n + 1; s++) {
                // states only split, so the same count of states is the same rows
                if (shared.active(s).length != running) {
                    running = shared.active(s).length;
                    x = gatherRows(x, padded(shared.inputIndex(s), ids.length));
                    rows = padded(shared.active(s), ids.length);
                    runIn = in.rows(rows);
                    p = plans(planKey(rows.length, length, perHeadResult, false, ""));
                }
                if (s <= n) {
                    x = p.run(s, blockGraphs[s - 1], blockArenas[(s - 1) % 2], runIn.with(x), shared.listener(s)).get(GemmaGraph.blockOutput(s - 1));
                }
            }
            INDArray last = p.run(n + 1, head(false), headArena,
                    Map.of(GemmaGraph.RESID_IN, x, GemmaGraph.LAST_INDEX, Nd4j.createFromArray(new int[] {length - 1})), shared.listener(n + 1))
                    .get(GemmaGraph.LAST_LOGITS);
            Map<String, INDArray> out = Map.of(GemmaGraph.LAST_LOGITS, gatherRows(last, shared.indexOf(n + 1)));
            evictBeyondBudget(p);
            collectIfGrown();
            return out;
        } finally {
            PlannedGraph.restoreBlasThreads();
        }
    }

    /**
     * Rows run per segment, padded to a multiple of 8 past 8, at most the batch (repeating the last row; padding rows
     * get no edits and their outputs are dropped), so that the batch sizes of a sweep's segments share execution plans.
     */
    private static int[] padded(int[] rows, int batch) {
        int size = Math.max(rows.length, Math.min(batch, (rows.length + 7) / 8 * 8));
        if (rows.length <= 8 || size == rows.length) return rows;
        int[] out = Arrays.copyOf(rows, size);
        Arrays.fill(out, rows.length, out.length, rows[rows.length - 1]);
        return out;
    }

    /** The plans' key: input shape, variant, and the cache's slots for a decoding step ("" otherwise). */
    private static String planKey(int batch, int length, boolean perHeadResult, boolean fullLogits, String slots) {
        return "[" + batch + ", " + length + "]" + perHeadResult + fullLogits + slots;
    }

    /** {@code a}[rows[0]], {@code a}[rows[1]], ... along the first axis (a new array). */
    static INDArray gatherRows(INDArray a, int[] rows) {
        long[] shape = a.shape().clone();
        INDArray flat = a.reshape('c', shape[0], a.length() / shape[0]);
        shape[0] = rows.length;
        return Nd4j.pullRows(flat, 1, rows).reshape('c', shape);
    }

    /**
     * Output buffers of all plans (a forward runs one plan per segment, and plans never run interleaved). Consecutive
     * blocks use different arenas: a block's input is the previous block's output.
     */
    private final PlannedGraph.Arena embedArena = new PlannedGraph.Arena(), headArena = new PlannedGraph.Arena();
    private final PlannedGraph.Arena[] blockArenas = {new PlannedGraph.Arena(), new PlannedGraph.Arena()};

    /** The plans of the segments for one input shape and variant. */
    private final class Plans {
        final PlannedGraph.Plan[] segments = new PlannedGraph.Plan[cfg.numLayers() + 2];

        Map<String, INDArray> run(int i, PlannedGraph graph, PlannedGraph.Arena arena, Map<String, INDArray> inputs, PlannedGraph.Watcher watcher) {
            if (segments[i] == null) {
                segments[i] = graph.plan(inputs, arena, watcher);
                return segments[i].firstOutputs();
            }
            return segments[i].run(inputs, watcher);
        }

        /**
         * Memory that dropping these plans would free: arena buffers since replaced by larger ones. Buffers still in
         * an arena are shared by all plans and counted by none (a smaller shape's plans cost no memory of their own).
         */
        long bytes() {
            long held = 0;
            for (PlannedGraph.Plan s : segments) if (s != null) held += s.heldBytes();
            return held;
        }
    }

    private Plans plans(String key) {
        return plans.computeIfAbsent(key, k -> new Plans());
    }

    /**
     * Plans may hold activation buffers the arenas have outgrown, so keep the recently used ones within a budget:
     * greedy decoding plans every length it meets once, and a study alternates a few shapes.
     */
    private void evictBeyondBudget(Plans current) {
        long total = 0;
        for (Plans p : plans.values()) total += p.bytes();
        var it = plans.values().iterator(); // least recently used first
        while ((total > planBudgetBytes || plans.size() > MAX_PLANS) && it.hasNext()) {
            Plans p = it.next();
            if (p == current) continue;
            total -= p.bytes();
            it.remove();
        }
    }

    private void collectIfGrown() {
        long now = System.nanoTime();
        if (now - lastRssCheckNanos < MIN_RSS_CHECK_INTERVAL_NS) return;
        lastRssCheckNanos = now;
        if (now - lastGcNanos >= MIN_GC_INTERVAL_NS && Pointer.physicalBytes() > gcAboveRssBytes) {
            lastGcNanos = now;
            System.gc();
        }
    }

    private PlannedGraph embedding() {
        if (embedding == null) {
            embedding = new PlannedGraph(GemmaGraph.embedding(cfg, weights, new GemmaGraph.Variant(false, false)), GemmaGraph.EMBED_OUT);
        }
        return embedding;
    }

    private PlannedGraph head(boolean fullLogits) {
        return heads.computeIfAbsent(fullLogits, full -> {
            SameDiff sd = GemmaGraph.head(cfg, weights, new GemmaGraph.Variant(false, false));
            return full ? new PlannedGraph(sd, GemmaGraph.LAST_LOGITS, GemmaGraph.LOGITS) : new PlannedGraph(sd, GemmaGraph.LAST_LOGITS);
        });
    }

    private PlannedGraph[] blocks(boolean perHeadResult, boolean pastKeys) {
        return blocks.computeIfAbsent(new GemmaGraph.Variant(perHeadResult, false, pastKeys), v -> {
            PlannedGraph[] graphs = new PlannedGraph[cfg.numLayers()];
            for (int l = 0; l < graphs.length; l++) {
                graphs[l] = new PlannedGraph(GemmaGraph.block(cfg, weights, l, v), GemmaGraph.blockOutput(l));
            }
            return graphs;
        });
    }

    public void clear() {
        plans.clear();
        blocks.clear();
        heads.clear();
        embedding = null;
    }
}
