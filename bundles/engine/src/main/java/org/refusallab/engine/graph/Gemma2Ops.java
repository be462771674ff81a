package org.refusallab.engine.graph;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The pieces Gemma 2 adds to a block's graph, kept apart from the Gemma 1 graph they modify: tanh soft-capping
 * and the sliding-window part of a local layer's attention bias. (Its post-norms reuse the block's RMSNorm.)
 */
final class Gemma2Ops {

    /** What a key outside a local layer's window adds to its score, like the causal and padding bias. */
    static final double OUTSIDE_WINDOW = -1e9;

    private Gemma2Ops() { }

    /** tanh(x / cap) * cap: Gemma 2 bounds attention scores (before the mask) and the final logits this way. */
    static SDVariable softcap(SameDiff sd, SDVariable x, double cap) {
        return sd.math().tanh(x.mul(1.0 / cap)).mul(cap);
    }

    /**
     * The attention bias of a local layer: {@code bias} [batch, 1, query, key] plus {@link #OUTSIDE_WINDOW} where the
     * key is {@code window} or more positions before the query (transformers: a query sees itself and the
     * window - 1 keys before it). Positions are indices in the padded row, as in transformers; left padding keeps a
     * row's real tokens contiguous, so that equals the distance in position ids. The queries are taken to be the
     * last {@code query} of the {@code key} positions, so the same bias serves a shorter block of new queries.
     * Built from the bias's shape inside the graph, so callers pass one bias for every layer.
     */
    static SDVariable slidingWindowBias(SameDiff sd, SDVariable bias, int window) {
        SDVariable shape = sd.castTo(sd.shape(bias), DataType.LONG);
        SDVariable queries = scalarAt(sd, shape, 2), keys = scalarAt(sd, shape, 3);
        SDVariable one = sd.constant(Nd4j.scalar(1L));
        SDVariable queryIndex = sd.range(keys.sub(queries), keys, one, DataType.LONG);      // [query]
        SDVariable keyIndex = sd.range(sd.constant(Nd4j.scalar(0L)), keys, one, DataType.LONG); // [key]
        SDVariable distance = sd.reshape(queryIndex, -1, 1).sub(sd.reshape(keyIndex, 1, -1)); // [query, key]
        SDVariable outside = sd.castTo(sd.gte(distance, (double) window), DataType.FLOAT).mul(OUTSIDE_WINDOW);
        return bias.add(outside);
    }

    private static SDVariable scalarAt(SameDiff sd, SDVariable vector, int index) {
        return sd.squeeze(sd.stridedSlice(vector, new long[] {index}, new long[] {index + 1}, 1), 0);
    }
}
