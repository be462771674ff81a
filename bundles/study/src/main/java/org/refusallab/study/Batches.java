package org.refusallab.study;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;

/**
 * Batched forwards: a list of token rows is run in chunks of at most {@code maxBatch} rows (the engine pads each
 * chunk on the left to its longest row). Interventions are built per chunk, with row indices local to the chunk.
 */
public final class Batches {

    private final HookedModel model;
    private final int maxBatch;
    private final Runnable cancelCheck;
    private final org.refusallab.api.analysis.Progress progress;

    public Batches(HookedModel model, int maxBatch, Runnable cancelCheck) {
        this(model, maxBatch, cancelCheck, null);
    }

    /** With a progress bar stepped once per forward chunk. */
    public Batches(HookedModel model, int maxBatch, Runnable cancelCheck, org.refusallab.api.analysis.Progress progress) {
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        this.model = model;
        this.maxBatch = maxBatch;
        this.cancelCheck = cancelCheck == null ? () -> { } : cancelCheck;
        this.progress = progress == null ? org.refusallab.api.analysis.Progress.NONE : progress;
    }

    public HookedModel model() {
        return model;
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** One chunk: global rows {@code start .. start + tokens.size() - 1}, padded to {@code paddedLength}. */
    public record Chunk(int start, List<int[]> tokens, int paddedLength) {
        public int size() {
            return tokens.size();
        }

        /** Padded index of a position counted from the end (-1 = last). */
        public int position(int fromEnd) {
            return paddedLength + fromEnd;
        }

        /** Left padding of a local row. */
        public int padding(int local) {
            return paddedLength - tokens.get(local).length;
        }
    }

    public void forEach(List<int[]> rows, Set<String> cacheHooks, Function<Chunk, List<Intervention>> interventions,
                        BiConsumer<Chunk, ForwardResult> consumer) {
        progress.start("forward batches of " + rows.size() + " rows", (rows.size() + maxBatch - 1) / maxBatch);
        for (int start = 0; start < rows.size(); start += maxBatch) {
            cancelCheck.run();
            List<int[]> tokens = rows.subList(start, Math.min(rows.size(), start + maxBatch));
            int len = 0;
            for (int[] t : tokens) len = Math.max(len, t.length);
            Chunk chunk = new Chunk(start, tokens, len);
            List<Intervention> iv = interventions == null ? List.of() : interventions.apply(chunk);
            ForwardResult r = model.run(new ForwardRequest(new ArrayList<>(tokens), cacheHooks, iv));
            if (r.paddedLength() != len) {
                throw new IllegalStateException("engine padded a chunk to " + r.paddedLength() + " positions, expected " + len);
            }
            consumer.accept(chunk, r);
            progress.step(1);
        }
        progress.done();
    }

    /** Last-position logits of every row ({@code [row][vocab]}), with the same interventions on all rows. */
    public float[][] lastLogits(List<int[]> rows, List<Intervention> sameForAllRows) {
        return lastLogits(rows, c -> sameForAllRows);
    }

    public float[][] lastLogits(List<int[]> rows, Function<Chunk, List<Intervention>> interventions) {
        float[][] out = new float[rows.size()][];
        forEach(rows, Set.of(), interventions, (c, r) -> {
            for (int i = 0; i < c.size(); i++) out[c.start() + i] = r.lastLogits().row(i);
        });
        return out;
    }

    /**
     * Metrics of every row, baseline and with the direction ablated, in the same forwards: {@code [0]} baseline,
     * {@code [1]} ablated.
     */
    public double[][] metricBaselineAndAblated(List<int[]> rows, float[] direction, RefusalMetric metric) {
        List<int[]> both = new ArrayList<>(rows);
        both.addAll(rows);
        int n = rows.size();
        int layers = model.info().nLayers();
        float[][] logits = lastLogits(both, chunk -> {
            int[] ablated = java.util.stream.IntStream.range(Math.max(chunk.start(), n), chunk.start() + chunk.size())
                    .map(i -> i - chunk.start()).toArray();
            return ablated.length == 0 ? List.of() : Interventions.directionalAblation(layers, direction, ablated);
        });
        double[][] out = new double[2][n];
        for (int i = 0; i < n; i++) {
            out[0][i] = metric.apply(logits[i]);
            out[1][i] = metric.apply(logits[n + i]);
        }
        return out;
    }

    public double[] metric(List<int[]> rows, List<Intervention> sameForAllRows, RefusalMetric metric) {
        float[][] logits = lastLogits(rows, sameForAllRows);
        double[] out = new double[logits.length];
        for (int i = 0; i < out.length; i++) out[i] = metric.apply(logits[i]);
        return out;
    }

    /**
     * Activations of every row at its real (unpadded) positions, for hooks whose axis 1 is the position:
     * {@code hook -> [row] -> [pos][width]} with the trailing axes flattened.
     */
    public Activations cache(List<int[]> rows, Set<String> hooks, List<Intervention> sameForAllRows) {
        Map<String, float[][][]> out = new HashMap<>();
        float[][] logits = new float[rows.size()][];
        forEach(rows, hooks, c -> sameForAllRows, (c, r) -> {
            for (var e : r.cache().entrySet()) {
                float[][][] perRow = out.computeIfAbsent(e.getKey(), k -> new float[rows.size()][][]);
                for (int i = 0; i < c.size(); i++) perRow[c.start() + i] = realPositions(e.getValue(), i, c.padding(i), e.getKey());
            }
            for (int i = 0; i < c.size(); i++) logits[c.start() + i] = r.lastLogits().row(i);
        });
        for (String h : hooks) {
            if (!h.contains("*") && !out.containsKey(h)) throw new IllegalStateException("engine did not return hook " + h);
        }
        return new Activations(out, logits, rows);
    }

    /** Row {@code row} of a {@code [batch, pos, ...]} tensor from position {@code padding} on, as {@code [pos][width]}. */
    static float[][] realPositions(Tensor t, int row, int padding, String hook) {
        if (t.rank() < 3) throw new IllegalArgumentException("hook " + hook + " has no position axis: " + t);
        int pos = t.dim(1);
        int width = 1;
        for (int a = 2; a < t.rank(); a++) width *= t.dim(a);
        float[][] out = new float[pos - padding][];
        int base = row * pos * width;
        for (int p = padding; p < pos; p++) {
            int off = base + p * width;
            out[p - padding] = java.util.Arrays.copyOfRange(t.data(), off, off + width);
        }
        return out;
    }

    /** Cached activations at real positions plus last-position logits. */
    public record Activations(Map<String, float[][][]> byHook, float[][] lastLogits, List<int[]> tokens) {

        public float[][][] hook(String name) {
            float[][][] a = byHook.get(name);
            if (a == null) throw new java.util.NoSuchElementException("hook " + name + " was not cached; cached: " + byHook.keySet());
            return a;
        }

        /** The vector of one row at a position counted from the end (-1 = last). */
        public float[] at(String hook, int row, int fromEnd) {
            float[][] r = hook(hook)[row];
            return r[r.length + fromEnd];
        }
    }
}
