package org.refusallab.engine.graph;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.SessionMemMgr;
import org.nd4j.autodiff.samediff.internal.memory.ArrayCacheMemoryMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.GemmaTensors;

/**
 * The inference graphs of one model (embedding, blocks, head) and the forward pass that runs them in order:
 * {@code x = embed(ids); for each block x = block(x); logits = head(x)}. Graphs are built on first use for each
 * variant (with or without per-head results) and share the weight arrays.
 */
public final class GemmaSegments {

    private final GemmaConfig cfg;
    private final Map<String, INDArray> weights;
    private final INDArray cosTable, sinTable; // [max_pos, d_head]
    private final Map<Boolean, SameDiff[]> blocks = new HashMap<>();
    private SameDiff embedding, head;
    /**
     * One array cache for all segments. By default each graph's session keeps its own cache of freed intermediate
     * arrays, so 18 blocks kept 18 blocks' worth (gemma-2b, B=24: peak RSS 21.4 GB for 10 GB of weights); the blocks
     * run one after another with the same shapes, so one cache serves them all. Not thread-safe: callers serialise.
     */
    private final SessionMemMgr sharedArrays = new ArrayCacheMemoryMgr();

    /**
     * ND4J frees an array's off-heap memory only once the garbage collector has found its Java object, and a forward
     * makes little Java garbage, so collections are rare while freed activations pile up off-heap (gemma-2b, B=24:
     * peak RSS 1.35x the weights). After each segment, if the resident set has grown more than this past what it
     * was when the weights were in place, ask for a collection (at most once per {@link #MIN_GC_INTERVAL_NS}).
     */
    private final long gcAboveRssBytes;
    private static final long MIN_GC_INTERVAL_NS = 1_000_000_000L;
    private long lastGcNanos = System.nanoTime() - MIN_GC_INTERVAL_NS;

    public GemmaSegments(GemmaConfig cfg, Map<String, INDArray> weights) {
        this.cfg = cfg;
        this.weights = weights;
        this.gcAboveRssBytes = Pointer.physicalBytes() + Math.max(512L << 20, GemmaTensors.totalBytes(weights) / 10);
        INDArray[] tables = GemmaGraph.rotaryTables(cfg.maxPositionEmbeddings(), cfg.headDim(), cfg.ropeTheta());
        this.cosTable = tables[0];
        this.sinTable = tables[1];
    }

    /** Inputs every block reads: rotary cos/sin gathered at each position id, and the additive attention bias. */
    public record BlockInputs(INDArray cos, INDArray sin, INDArray bias) {
        public Map<String, INDArray> with(INDArray x) {
            return Map.of(GemmaGraph.RESID_IN, x, GemmaGraph.ROPE_COS, cos, GemmaGraph.ROPE_SIN, sin, GemmaGraph.ATTENTION_BIAS, bias);
        }
    }

    /**
     * @param positionIds [batch][pos]
     * @param bias        additive attention bias, [batch, 1, pos, pos] flattened in row-major order
     */
    public BlockInputs blockInputs(int[][] positionIds, float[] bias) {
        int b = positionIds.length, s = positionIds[0].length, dh = cfg.headDim();
        int[] flat = new int[b * s];
        for (int r = 0; r < b; r++) {
            for (int p = 0; p < s; p++) {
                if (positionIds[r][p] >= cfg.maxPositionEmbeddings()) {
                    throw new IllegalArgumentException("position " + positionIds[r][p] + " exceeds max_position_embeddings " + cfg.maxPositionEmbeddings());
                }
                flat[r * s + p] = positionIds[r][p];
            }
        }
        INDArray cos = cosTable.getRows(flat).reshape(b, s, 1, dh);
        INDArray sin = sinTable.getRows(flat).reshape(b, s, 1, dh);
        return new BlockInputs(cos, sin, Nd4j.create(bias, new long[] {b, 1, s, s}, 'c'));
    }

    /** Runs embedding, blocks and head; returns last_logits and, if asked, the full logits. */
    public Map<String, INDArray> forward(int[][] ids, BlockInputs in, List<Listener> listeners, boolean perHeadResult, boolean fullLogits) {
        INDArray x = session(embedding()).output(Map.of(GemmaGraph.INPUT_IDS, Nd4j.createFromArray(ids)), listeners, GemmaGraph.EMBED_OUT)
                .get(GemmaGraph.EMBED_OUT);
        SameDiff[] graphs = blocks(perHeadResult);
        for (int layer = 0; layer < graphs.length; layer++) {
            String out = GemmaGraph.blockOutput(layer);
            x = session(graphs[layer]).output(in.with(x), listeners, out).get(out);
            collectIfGrown();
        }
        String[] outputs = fullLogits ? new String[] {GemmaGraph.LAST_LOGITS, GemmaGraph.LOGITS} : new String[] {GemmaGraph.LAST_LOGITS};
        return session(head()).output(Map.of(GemmaGraph.RESID_IN, x, GemmaGraph.LAST_INDEX, Nd4j.createFromArray(new int[] {ids[0].length - 1})),
                listeners, outputs);
    }

    private void collectIfGrown() {
        long now = System.nanoTime();
        if (now - lastGcNanos >= MIN_GC_INTERVAL_NS && Pointer.physicalBytes() > gcAboveRssBytes) {
            lastGcNanos = now;
            System.gc();
        }
    }

    /** Gives the graph's session for this thread the shared array cache (SameDiff makes one per thread on first use). */
    private SameDiff session(SameDiff sd) {
        sd.getSessions().computeIfAbsent(Thread.currentThread().getId(), t -> {
            InferenceSession session = new InferenceSession(sd);
            session.setMmgr(sharedArrays);
            return session;
        });
        return sd;
    }

    private SameDiff embedding() {
        if (embedding == null) embedding = GemmaGraph.embedding(cfg, weights, new GemmaGraph.Variant(false, false));
        return embedding;
    }

    private SameDiff head() {
        if (head == null) head = GemmaGraph.head(cfg, weights, new GemmaGraph.Variant(false, false));
        return head;
    }

    private SameDiff[] blocks(boolean perHeadResult) {
        return blocks.computeIfAbsent(perHeadResult, v -> {
            SameDiff[] graphs = new SameDiff[cfg.numLayers()];
            for (int l = 0; l < graphs.length; l++) graphs[l] = GemmaGraph.block(cfg, weights, l, new GemmaGraph.Variant(v, false));
            return graphs;
        });
    }

    public void clear() {
        blocks.clear();
        embedding = null;
        head = null;
    }
}
