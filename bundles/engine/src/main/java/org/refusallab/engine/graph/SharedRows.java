package org.refusallab.engine.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.refusallab.api.model.Intervention;

/**
 * Rows of one forward whose state is the same up to a segment (embedding, block l, head): the same token ids and the
 * same edits at every hook so far. Rows never mix in a transformer, so such rows have equal activations there, and
 * each segment needs to run once per distinct state only. A patching sweep's copies are one prompt patched at one
 * layer each: below its patched layer a copy is the clean run, so the blocks below run on one row instead of all of
 * them (on average half the layers of a residual-patching sweep).
 *
 * <p>Segment s runs the rows {@link #active(int)} (each state's first row). The edits of its hooks are rewritten
 * onto those rows ({@link #listener}): an edit of a row whose state another row represents is the representative's
 * edit too, since the same edits (and for a REPLACE, the same source row) are part of the state.
 */
public final class SharedRows {

    private final int batch;
    private final int[][] active;  // [segment] -> the rows run there, ascending
    private final int[][] indexOf; // [segment][row] -> index in active[segment] of the row's representative
    private final List<List<Intervention>> editsBySegment;

    private SharedRows(int batch, int[][] active, int[][] indexOf, List<List<Intervention>> editsBySegment) {
        this.batch = batch;
        this.active = active;
        this.indexOf = indexOf;
        this.editsBySegment = editsBySegment;
    }

    /**
     * The row states of a forward of {@code ids} [batch][pos] with these edits on a model of {@code numLayers}
     * blocks; null when sharing would save under a quarter of the rows run (then the forward is not worth new
     * execution plans for the smaller batches).
     */
    public static SharedRows of(int[][] ids, List<Intervention> interventions, int numLayers) {
        int b = ids.length, segments = numLayers + 2;
        List<List<Intervention>> bySegment = new ArrayList<>();
        for (int s = 0; s < segments; s++) bySegment.add(new ArrayList<>());
        for (Intervention iv : interventions) bySegment.get(segment(iv.hook(), numLayers)).add(iv);
        // state id per row: starts from the token ids, then extended by each segment's edits of the row
        int[] state = new int[b];
        Map<List<Integer>, Integer> tokenStates = new HashMap<>();
        for (int r = 0; r < b; r++) state[r] = tokenStates.computeIfAbsent(Arrays.stream(ids[r]).boxed().toList(), k -> tokenStates.size());
        int[][] active = new int[segments][], indexOf = new int[segments][b];
        long saved = 0; // rows not run, summed over the segments
        for (int s = 0; s < segments; s++) {
            List<List<Integer>> edits = new ArrayList<>(); // per row: (edit index, source row) of this segment's edits
            for (int r = 0; r < b; r++) edits.add(new ArrayList<>(List.of(state[r])));
            List<Intervention> here = bySegment.get(s);
            for (int e = 0; e < here.size(); e++) {
                Intervention iv = here.get(e);
                int[] rows = iv.rows() != null ? iv.rows() : range(b);
                int[] sourceRows = iv.sourceRows();
                for (int i = 0; i < rows.length; i++) {
                    if (rows[i] < 0 || rows[i] >= b) continue; // the applier reports it
                    edits.get(rows[i]).add(e);
                    edits.get(rows[i]).add(iv.source() == null ? -1 : sourceRows != null ? sourceRows[i] : rows[i]);
                }
            }
            Map<List<Integer>, Integer> states = new HashMap<>();
            List<Integer> reps = new ArrayList<>();
            for (int r = 0; r < b; r++) {
                int id = states.computeIfAbsent(edits.get(r), k -> states.size());
                if (id == reps.size()) reps.add(r);
                state[r] = id;
                indexOf[s][r] = id;
            }
            active[s] = reps.stream().mapToInt(Integer::intValue).toArray();
            saved += b - reps.size();
        }
        // each new batch size is a new execution plan: share only when it saves at least a quarter of the rows
        return saved * 4 >= (long) b * segments ? new SharedRows(b, active, indexOf, bySegment) : null;
    }

    /** Segment of a hook: 0 the embedding, 1 + l block l, numLayers + 1 the head. */
    static int segment(String hook, int numLayers) {
        if (hook.startsWith("blocks.")) return 1 + Integer.parseInt(hook.substring(7, hook.indexOf('.', 7)));
        return hook.startsWith("hook_embed") ? 0 : numLayers + 1;
    }

    public int batch() {
        return batch;
    }

    /** The rows segment {@code s} runs (one per state), ascending. */
    public int[] active(int s) {
        return active[s];
    }

    /** For each row of segment {@code s}, its index among {@link #active(int)}{@code (s)}. */
    public int[] indexOf(int s) {
        return indexOf[s];
    }

    /** Where each of segment s's active rows finds its input among segment s - 1's active rows. */
    public int[] inputIndex(int s) {
        int[] out = new int[active[s].length];
        for (int i = 0; i < out.length; i++) out[i] = indexOf[s - 1][active[s][i]];
        return out;
    }

    /**
     * Segment s's edits on its active rows (index i = active row i; rows at or past {@code active(s).length} are
     * padding and get none): a row represented by another is skipped, its representative carries the same edit.
     */
    public HookListener listener(int s) {
        return new HookListener(edits(s), java.util.Set.of());
    }

    /** The edits of {@link #listener}. */
    public List<Intervention> edits(int s) {
        int[] act = active[s];
        int[] position = new int[batch];
        Arrays.fill(position, -1);
        for (int i = 0; i < act.length; i++) position[act[i]] = i;
        List<Intervention> out = new ArrayList<>();
        for (Intervention iv : editsBySegment.get(s)) {
            int[] rows = iv.rows() != null ? iv.rows() : range(batch);
            int[] sourceRows = iv.sourceRows();
            List<Integer> kept = new ArrayList<>(), keptSources = new ArrayList<>();
            for (int i = 0; i < rows.length; i++) {
                if (rows[i] < 0 || rows[i] >= batch) {
                    kept.add(rows[i]); // left out of range: the applier's error names it
                    keptSources.add(sourceRows != null ? sourceRows[i] : rows[i]);
                    continue;
                }
                if (position[rows[i]] < 0) continue;
                kept.add(position[rows[i]]);
                keptSources.add(sourceRows != null ? sourceRows[i] : rows[i]);
            }
            if (kept.isEmpty()) continue;
            Intervention e = iv.withRows(kept.stream().mapToInt(Integer::intValue).toArray());
            if (iv.source() != null) e = e.withSource(iv.source(), keptSources.stream().mapToInt(Integer::intValue).toArray());
            out.add(e);
        }
        return out;
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }
}
