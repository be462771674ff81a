package org.refusallab.engine.graph;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.refusallab.checkpoint.GemmaConfig;

/**
 * Every layer's keys (after rotary) and values for cached decoding, [batch, kv_head, capacity, d_head] each, slot s
 * holding padded position s of the batch. A forward run with the cache writes its positions' keys and values into
 * slots {@link #writeAt()} on, as its blocks compute them (after the hooks' interventions, like every downstream
 * op sees them): the prompt's forward fills slots 0..P-1, each decoding step one slot. Slots are read only where the
 * attention bias lets a query see them, so unwritten slots may hold anything.
 */
public final class KvCache {

    private final INDArray[] keys, values;
    private final int capacity;
    private final Map<String, Integer> keyLayer = new HashMap<>(), valueLayer = new HashMap<>();
    private int writeAt;

    public KvCache(GemmaConfig cfg, int batch, int capacity) {
        this.capacity = capacity;
        int n = cfg.numLayers();
        keys = new INDArray[n];
        values = new INDArray[n];
        for (int l = 0; l < n; l++) {
            keys[l] = Nd4j.zeros(DataType.FLOAT, batch, cfg.numKvHeads(), capacity, cfg.headDim());
            values[l] = Nd4j.zeros(DataType.FLOAT, batch, cfg.numKvHeads(), capacity, cfg.headDim());
            keyLayer.put(GemmaGraph.rotatedKeys(l), l);
            valueLayer.put("blocks." + l + ".attn.hook_v", l);
        }
    }

    public int capacity() {
        return capacity;
    }

    public int writeAt() {
        return writeAt;
    }

    /** Where the next forward's first position goes. */
    public void writeAt(int slot) {
        if (slot < 0 || slot >= capacity) throw new IllegalArgumentException("cache slot " + slot + " outside 0.." + (capacity - 1));
        this.writeAt = slot;
    }

    public INDArray keys(int layer) {
        return keys[layer];
    }

    public INDArray values(int layer) {
        return values[layer];
    }

    /** {@code inner} (hooks: interventions, caching) first, then this cache takes the layers' keys and values. */
    public PlannedGraph.Watcher filling(PlannedGraph.Watcher inner) {
        return new PlannedGraph.Watcher() {
            @Override
            public boolean watches(String variable) {
                return keyLayer.containsKey(variable) || valueLayer.containsKey(variable) || (inner != null && inner.watches(variable));
            }

            @Override
            public void onOutput(String variable, INDArray value) {
                if (inner != null && inner.watches(variable)) inner.onOutput(variable, value);
                Integer l = keyLayer.get(variable);
                if (l != null) store(keys[l], value);
                l = valueLayer.get(variable);
                if (l != null) store(values[l], value);
            }
        };
    }

    /**
     * {@code x} [batch, pos, kv, d_head] into slots writeAt..writeAt+pos-1 of {@code cache}, one d_head run at a time
     * through native memory (a strided view and ND4J's assign cost 15% of a toy model's decoding step: each new
     * INDArray allocates its shape information natively).
     */
    private void store(INDArray cache, INDArray x) {
        int b = (int) cache.size(0), kv = (int) cache.size(1), dh = (int) cache.size(3), pos = (int) x.size(1);
        if (writeAt + pos > capacity) throw new IllegalStateException("key/value cache of " + capacity + " slots cannot take " + pos + " positions at slot " + writeAt);
        if (x.ordering() != 'c' || !Arrays.equals(x.stride(), Nd4j.getStrides(x.shape(), 'c'))) x = x.dup('c');
        int n = b * pos * kv * dh;
        if (scratch.length < n) scratch = new float[n];
        FloatPointer src = new FloatPointer(x.data().addressPointer());
        src.position(x.offset()).get(scratch, 0, n);
        FloatPointer dst = new FloatPointer(cache.data().addressPointer());
        for (int r = 0; r < b; r++) {
            for (int p = 0; p < pos; p++) {
                for (int h = 0; h < kv; h++) {
                    dst.position(((long) (r * kv + h) * capacity + writeAt + p) * dh).put(scratch, ((r * pos + p) * kv + h) * dh, dh);
                }
            }
        }
    }

    private float[] scratch = new float[0];
}
