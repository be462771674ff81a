package org.refusallab.study.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;
import org.refusallab.api.sweep.SweepService;

/**
 * Runs sweep rows in this JVM on the model service, in the batches of {@link SweepBatches#plan} (bucketed by length,
 * at most {@code maxBatch} rows; the engine pads each on the left to its longest row), one forward per batch; rows
 * that generate are decoded in their own batches. Row-local positions become padded ones here; equal interventions of a chunk's rows become one
 * intervention over those rows, and REPLACE sources of one site are stacked into one source tensor.
 */
@Component(service = SweepService.class)
public final class InProcessSweep implements SweepService {

    private final HookedModel model;

    @Activate
    public InProcessSweep(@Reference HookedModel model) {
        this.model = model;
    }

    @Override
    public List<RowResult> run(List<Row> rows, Options options) {
        RowResult[] out = new RowResult[rows.size()];
        List<SweepBatches.Batch> batches = SweepBatches.plan(rows, options.maxBatch());
        // progress counts rows (not batches), so the bar shows rows done, rows/s and the time left
        options.progress().start("rows", rows.size());
        try {
            for (SweepBatches.Batch b : batches) {
                check(options);
                List<RowResult> got = runBatch(b.rows(rows), b.generation());
                int[] ids = b.ids();
                for (int k = 0; k < ids.length; k++) out[ids[k]] = got.get(k);
                options.progress().step(ids.length);
            }
        } finally {
            options.progress().done();
        }
        return Arrays.asList(out);
    }

    /**
     * One batch of a {@link SweepBatches} plan as one forward (or one batched decoding): the results in the batch's
     * order. Distributed services call this on their executors' models.
     */
    public List<RowResult> runBatch(List<Row> rows, boolean generation) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) ids.add(i);
        RowResult[] out = new RowResult[rows.size()];
        if (generation) generateChunk(rows, ids, out);
        else forwardChunk(rows, ids, out);
        return Arrays.asList(out);
    }

    private static void check(Options options) {
        if (options.cancelled().getAsBoolean()) throw new CancellationException("sweep cancelled");
    }

    /** A chunk of rows: tokens and each row's padding to the chunk's length. */
    record Chunk(List<Row> rows, int length) {
        static Chunk of(List<Row> all, List<Integer> ids) {
            List<Row> rows = ids.stream().map(all::get).toList();
            return new Chunk(rows, rows.stream().mapToInt(Row::length).max().orElse(0));
        }

        int padding(int local) {
            return length - rows.get(local).length();
        }

        /** A row-local position (negative = from the end) as an index of the padded chunk. */
        int padded(int local, int position) {
            int len = rows.get(local).length();
            int p = position < 0 ? len + position : position;
            if (p < 0 || p >= len) throw new IllegalArgumentException("position " + position + " outside a row of " + len + " tokens");
            return padding(local) + p;
        }

        int[] padded(int local, int[] positions) {
            if (positions == null) return null;
            int[] out = new int[positions.length];
            for (int i = 0; i < out.length; i++) out[i] = padded(local, positions[i]);
            return out;
        }

        /** Every real position of a row, padded; null when the row is not padded (every position). */
        int[] realPositions(int local) {
            int pad = padding(local);
            if (pad == 0) return null;
            int[] out = new int[length - pad];
            for (int i = 0; i < out.length; i++) out[i] = pad + i;
            return out;
        }

        List<int[]> tokens() {
            return rows.stream().map(Row::tokens).toList();
        }
    }

    private void forwardChunk(List<Row> all, List<Integer> ids, RowResult[] out) {
        Chunk chunk = Chunk.of(all, ids);
        Set<String> hooks = new LinkedHashSet<>();
        boolean allLogits = false;
        for (Row r : chunk.rows()) {
            for (ReadOut ro : r.readOuts()) {
                if (ro instanceof ReadOut.Activation a) hooks.add(a.hook());
                if (ro instanceof ReadOut.Projection p) hooks.add(checkPositional(p.hook()));
                if (ro instanceof ReadOut.Logits l && l.position() != -1) allLogits = true;
                if (ro instanceof ReadOut.Metric m && m.position() != -1) allLogits = true;
            }
        }
        if (allLogits) hooks.add("logits");
        ForwardResult r = model.run(new ForwardRequest(chunk.tokens(), hooks, interventions(chunk)));
        if (r.paddedLength() != chunk.length()) {
            throw new IllegalStateException("engine padded a chunk to " + r.paddedLength() + " positions, expected " + chunk.length());
        }
        for (int i = 0; i < chunk.rows().size(); i++) {
            List<Object> values = new ArrayList<>();
            for (ReadOut ro : chunk.rows().get(i).readOuts()) values.add(readOut(ro, r, chunk, i));
            out[ids.get(i)] = new RowResult(values);
        }
    }

    private static boolean isPattern(String hook) {
        return hook.endsWith("attn.hook_pattern") || hook.endsWith("attn.hook_attn_scores");
    }

    /**
     * Row i of a [batch, head, query, key] pattern at row-local query positions (null = every real one), over the
     * row's real keys: [queries, head, keys]; key 0 is the row's first token, not the padded batch's.
     */
    static Tensor pattern(Tensor t, Chunk chunk, int i, int[] positions) {
        int pad = chunk.padding(i);
        int[] queries = positions == null ? range(pad, chunk.length()) : chunk.padded(i, positions);
        int heads = t.dim(1), keys = chunk.length() - pad;
        float[] data = new float[queries.length * heads * keys];
        for (int q = 0; q < queries.length; q++) {
            for (int h = 0; h < heads; h++) {
                System.arraycopy(t.data(), t.offset(i, h, queries[q], pad), data, (q * heads + h) * keys, keys);
            }
        }
        return new Tensor(new long[] {queries.length, heads, keys}, data);
    }

    private static String checkPositional(String hook) {
        if (isPattern(hook)) {
            throw new IllegalArgumentException("read-outs of " + hook + " are not supported: its axis 1 is the head, not the position");
        }
        return hook;
    }

    private Object readOut(ReadOut ro, ForwardResult r, Chunk chunk, int i) {
        if (ro instanceof ReadOut.Metric m) return m.metric().apply(logitsAt(r, chunk, i, m.position()));
        if (ro instanceof ReadOut.Logits l) return logitsAt(r, chunk, i, l.position());
        if (ro instanceof ReadOut.Activation a) {
            return isPattern(a.hook()) ? pattern(r.hook(a.hook()), chunk, i, a.positions()) : activation(r.hook(a.hook()), chunk, i, a.positions());
        }
        if (ro instanceof ReadOut.Projection p) return project(activation(r.hook(p.hook()), chunk, i, p.positions()), p.vectors(), p.hook());
        throw new IllegalStateException("generation rows are decoded separately");
    }

    private static float[] logitsAt(ForwardResult r, Chunk chunk, int i, int position) {
        if (position == -1) return r.lastLogits().row(i);
        return r.hook("logits").row(i, chunk.padded(i, position));
    }

    /** Row i of a [batch, pos, ...] activation at row-local positions (null = every real one): [positions, ...]. */
    static Tensor activation(Tensor t, Chunk chunk, int i, int[] positions) {
        int[] padded = positions == null ? range(chunk.padding(i), chunk.length()) : chunk.padded(i, positions);
        int width = 1;
        for (int a = 2; a < t.rank(); a++) width *= t.dim(a);
        float[] data = new float[padded.length * width];
        for (int k = 0; k < padded.length; k++) {
            System.arraycopy(t.data(), t.offset(withZeros(t.rank(), i, padded[k])), data, k * width, width);
        }
        long[] shape = t.shape().clone();
        shape = Arrays.copyOfRange(shape, 1, shape.length);
        shape[0] = padded.length;
        return new Tensor(shape, data);
    }

    private static int[] withZeros(int rank, int row, int pos) {
        int[] idx = new int[rank];
        idx[0] = row;
        idx[1] = pos;
        return idx;
    }

    private static double[][] project(Tensor act, float[][] vectors, String hook) {
        int width = act.data().length / act.dim(0);
        double[][] out = new double[act.dim(0)][vectors.length];
        for (int v = 0; v < vectors.length; v++) {
            if (vectors[v].length != width) throw new IllegalArgumentException("projection of " + hook + ": vector of " + vectors[v].length + " values, activation has " + width);
        }
        for (int p = 0; p < out.length; p++) {
            for (int v = 0; v < vectors.length; v++) {
                double s = 0;
                for (int k = 0; k < width; k++) s += (double) act.data()[p * width + k] * vectors[v][k];
                out[p][v] = s;
            }
        }
        return out;
    }

    /**
     * The chunk's interventions for the engine: each row's edits at padded positions on that row, equal edits of
     * several rows merged into one over those rows, REPLACE edits of one site stacked into one source tensor.
     */
    static List<Intervention> interventions(Chunk chunk) {
        Map<Intervention, List<Integer>> plain = new LinkedHashMap<>();
        record ReplaceSite(String hook, List<Integer> positions, List<Integer> heads) { }
        Map<ReplaceSite, List<Integer>> replaceRows = new LinkedHashMap<>();
        Map<ReplaceSite, List<Tensor>> replaceSources = new LinkedHashMap<>();
        List<Object> order = new ArrayList<>(); // first appearance of each merged edit, to keep list order
        for (int i = 0; i < chunk.rows().size(); i++) {
            for (Intervention iv : chunk.rows().get(i).interventions()) {
                int[] positions = iv.kind() == Intervention.Kind.REPLACE && iv.positions() == null ? chunk.realPositions(i) : chunk.padded(i, iv.positions());
                if (iv.kind() == Intervention.Kind.REPLACE) {
                    ReplaceSite site = new ReplaceSite(iv.hook(), box(positions), box(iv.heads()));
                    if (!replaceRows.containsKey(site)) order.add(site);
                    replaceRows.computeIfAbsent(site, k -> new ArrayList<>()).add(i);
                    replaceSources.computeIfAbsent(site, k -> new ArrayList<>()).add(padSource(iv.source(), chunk, i, iv.hook()));
                } else {
                    Intervention key = iv.withRows(null).withPositions(positions);
                    if (!plain.containsKey(key)) order.add(key);
                    plain.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
                }
            }
        }
        List<Intervention> out = new ArrayList<>();
        int n = chunk.rows().size();
        for (Object o : order) {
            if (o instanceof Intervention iv) {
                List<Integer> rows = plain.get(iv);
                out.add(rows.size() == n ? iv : iv.withRows(unbox(rows)));
            } else {
                ReplaceSite site = (ReplaceSite) o;
                List<Integer> rows = replaceRows.get(site);
                Tensor source = stack(replaceSources.get(site));
                Intervention.Site where = Intervention.at(site.hook()).rows(unbox(rows));
                if (site.positions() != null) where = where.positions(unbox(site.positions()));
                if (site.heads() != null) where = where.heads(unbox(site.heads()));
                int[] sourceRows = new int[rows.size()];
                for (int k = 0; k < sourceRows.length; k++) sourceRows[k] = k;
                out.add(where.replaceWith(source).fromRows(sourceRows));
            }
        }
        return out;
    }

    /** A row's source [len, ...] as [1, chunk length, ...], left-padded with zeros like the row. */
    private static Tensor padSource(Tensor source, Chunk chunk, int i, String hook) {
        int len = chunk.rows().get(i).length();
        if (source.dim(0) != len) {
            throw new IllegalArgumentException("REPLACE at " + hook + ": the source has " + source.dim(0) + " positions, the row " + len
                    + " (a row's source is its source run's activation of every position, without a batch axis)");
        }
        int width = source.data().length / len;
        float[] data = new float[chunk.length() * width];
        System.arraycopy(source.data(), 0, data, chunk.padding(i) * width, source.data().length);
        long[] shape = new long[source.rank() + 1];
        shape[0] = 1;
        shape[1] = chunk.length();
        System.arraycopy(source.shape(), 1, shape, 2, source.rank() - 1);
        return new Tensor(shape, data);
    }

    private static Tensor stack(List<Tensor> ts) {
        int each = ts.get(0).data().length;
        float[] data = new float[each * ts.size()];
        for (int k = 0; k < ts.size(); k++) System.arraycopy(ts.get(k).data(), 0, data, k * each, each);
        long[] shape = ts.get(0).shape().clone();
        shape[0] = ts.size();
        return new Tensor(shape, data);
    }

    private void generateChunk(List<Row> all, List<Integer> ids, RowResult[] out) {
        Chunk chunk = Chunk.of(all, ids);
        int maxNew = 0;
        for (Row r : chunk.rows()) maxNew = Math.max(maxNew, ((ReadOut.Generation) r.readOuts().get(0)).maxNewTokens());
        List<Intervention> edits = interventions(chunk);
        List<int[]> gen = edits.stream().anyMatch(iv -> iv.kind() == Intervention.Kind.REPLACE)
                ? generatePatched(chunk, maxNew, edits) : model.generate(new GenerationRequest(chunk.tokens(), maxNew, edits));
        for (int i = 0; i < ids.size(); i++) {
            int limit = ((ReadOut.Generation) chunk.rows().get(i).readOuts().get(0)).maxNewTokens();
            int[] g = gen.get(i);
            out[ids.get(i)] = new RowResult(List.of(g.length > limit ? Arrays.copyOf(g, limit) : g));
        }
    }

    /**
     * Greedy decoding of a chunk with REPLACE edits (head patching under generation). A source run has activations at
     * the prompt's positions only, and the model's decoding needs each step's sources as long as its sequence, so
     * each step is a one-token {@link HookedModel#generate} of the sequences so far, with every REPLACE source
     * zero-extended over the tokens generated so far and its positions the prompt's (generated positions are not
     * patched; other edits act as in any decoding). Rows grow in lockstep so the padding, and the padded
     * positions, stay those of the chunk. A row is done when the model returns no token (its stop token) or
     * {@code <end_of_turn>} / {@code <eos>}, so the output is what the model's own decoding would return.
     */
    private List<int[]> generatePatched(Chunk chunk, int maxNew, List<Intervention> edits) {
        List<int[]> seqs = new ArrayList<>(chunk.tokens());
        int n = seqs.size();
        List<List<Integer>> produced = new ArrayList<>();
        for (int i = 0; i < n; i++) produced.add(new ArrayList<>());
        boolean[] done = new boolean[n];
        java.util.Set<Integer> stops = new java.util.HashSet<>();
        for (String stop : List.of("<end_of_turn>", "<eos>")) {
            try {
                stops.add(model.tokenizer().tokenId(stop));
            } catch (RuntimeException noSuchToken) {
                // a tokenizer without the token: the model's own stop (an empty step) still ends the row
            }
        }
        for (int step = 0; step < maxNew; step++) {
            List<Intervention> now = new ArrayList<>();
            for (Intervention iv : edits) now.add(iv.kind() == Intervention.Kind.REPLACE ? extended(iv, chunk.length(), step) : iv);
            List<int[]> next = model.generate(new GenerationRequest(seqs, 1, now));
            boolean allDone = true;
            for (int i = 0; i < n; i++) {
                int[] t = next.get(i), s = seqs.get(i);
                if (!done[i]) {
                    if (t.length == 0) done[i] = true;
                    else {
                        produced.get(i).add(t[0]);
                        done[i] = stops.contains(t[0]);
                    }
                }
                // finished rows keep growing (by any token: causal attention keeps rows apart) so the padding stays put
                int[] grown = Arrays.copyOf(s, s.length + 1);
                grown[s.length] = t.length == 0 ? s[s.length - 1] : t[0];
                seqs.set(i, grown);
                allDone &= done[i];
            }
            if (allDone) break;
        }
        return produced.stream().map(p -> p.stream().mapToInt(Integer::intValue).toArray()).toList();
    }

    /** A REPLACE of the chunk's prompt positions with its source zero-extended by {@code extra} positions (axis 1). */
    static Intervention extended(Intervention iv, int promptLength, int extra) {
        Tensor s = iv.source();
        Intervention at = iv.positions() == null ? iv.withPositions(range(0, promptLength)) : iv;
        if (extra == 0) return at;
        long[] shape = s.shape().clone();
        int rows = (int) shape[0], len = (int) shape[1], width = s.data().length / (rows * len);
        shape[1] = len + extra;
        float[] data = new float[rows * (len + extra) * width];
        for (int r = 0; r < rows; r++) System.arraycopy(s.data(), r * len * width, data, r * (len + extra) * width, len * width);
        return at.withSource(new Tensor(shape, data), iv.sourceRows());
    }

    private static int[] range(int from, int to) {
        int[] out = new int[to - from];
        for (int i = 0; i < out.length; i++) out[i] = from + i;
        return out;
    }

    private static List<Integer> box(int[] a) {
        return a == null ? null : Arrays.stream(a).boxed().toList();
    }

    private static int[] unbox(List<Integer> a) {
        return a.stream().mapToInt(Integer::intValue).toArray();
    }
}
