package org.refusallab.study;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;

/**
 * Batched activation patching: many patched copies of base prompts in one forward request (rows = copies), each
 * copy replacing some hook sites with the activations of its source prompt. Copies are chunked to the configured
 * batch size; one REPLACE intervention per distinct (hook, positions) in a chunk maps its copies to their rows of
 * a source tensor built for that chunk's padding. A base prompt and its source must have the same length.
 */
public final class Patching {

    private Patching() { }

    /** A hook and the positions to patch there, counted from the end (-1 = last); null positions = every real position. */
    public record Site(String hook, int[] fromEnd) {
        public Site {
            if (fromEnd != null) {
                for (int p : fromEnd) if (p >= 0) throw new IllegalArgumentException("site positions count from the end (< 0), got " + p);
            }
        }

        String key() {
            return hook + (fromEnd == null ? "@all" : "@" + Arrays.toString(fromEnd));
        }
    }

    /** One patched copy: run {@code base} tokens, patch the sites with the source row's activations. */
    public record Copy(int baseRow, int sourceRow, List<Site> sites) { }

    /**
     * Runs every copy and returns its metric.
     *
     * @param base    base prompts' tokens (row indices of copies refer to these)
     * @param sources cached activations of the source prompts, covering every patched hook
     */
    public static double[] run(Batches batches, List<int[]> base, Batches.Activations sources, List<Copy> copies, RefusalMetric metric) {
        for (Copy c : copies) {
            int bl = base.get(c.baseRow()).length, sl = sources.tokens().get(c.sourceRow()).length;
            if (bl != sl) throw new IllegalArgumentException("patching copy " + c + ": base row has " + bl + " tokens, source row " + sl);
        }
        List<int[]> rows = copies.stream().map(c -> base.get(c.baseRow())).toList();
        double[] out = new double[copies.size()];
        batches.forEach(rows, java.util.Set.of(), chunk -> interventions(chunk, copies, sources), (chunk, r) -> {
            for (int i = 0; i < chunk.size(); i++) out[chunk.start() + i] = metric.apply(r.lastLogits().row(i));
        });
        return out;
    }

    static List<Intervention> interventions(Batches.Chunk chunk, List<Copy> copies, Batches.Activations sources) {
        // group the chunk's copies by site so each (hook, positions) becomes one REPLACE over several rows
        Map<String, List<Integer>> rowsBySite = new LinkedHashMap<>();
        Map<String, Site> sites = new LinkedHashMap<>();
        for (int i = 0; i < chunk.size(); i++) {
            for (Site s : copies.get(chunk.start() + i).sites()) {
                // "all positions" means a row's real positions, which depend on its padding
                String key = s.fromEnd() == null ? s.key() + "#pad" + chunk.padding(i) : s.key();
                rowsBySite.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
                sites.putIfAbsent(key, s);
            }
        }
        List<Intervention> out = new ArrayList<>();
        int len = chunk.paddedLength();
        for (var e : rowsBySite.entrySet()) {
            Site site = sites.get(e.getKey());
            List<Integer> local = e.getValue();
            float[][][] src = sources.hook(site.hook());
            int width = src[copies.get(chunk.start() + local.get(0)).sourceRow()][0].length;
            float[] data = new float[local.size() * len * width];
            int[] rows = new int[local.size()];
            int[] sourceRows = new int[local.size()];
            for (int j = 0; j < local.size(); j++) {
                int row = local.get(j);
                Copy copy = copies.get(chunk.start() + row);
                float[][] vectors = src[copy.sourceRow()];
                int padding = len - vectors.length;
                // source rows are left-padded like the base row they patch (same length), so padded indices agree
                for (int p = 0; p < vectors.length; p++) {
                    System.arraycopy(vectors[p], 0, data, (j * len + padding + p) * width, width);
                }
                rows[j] = row;
                sourceRows[j] = j;
            }
            int[] positions = null;
            if (site.fromEnd() != null) {
                positions = new int[site.fromEnd().length];
                for (int k = 0; k < positions.length; k++) positions[k] = len + site.fromEnd()[k];
            } else if (chunk.padding(local.get(0)) > 0) {
                int padding = chunk.padding(local.get(0));
                positions = new int[len - padding];
                for (int k = 0; k < positions.length; k++) positions[k] = padding + k;
            }
            long[] shape = shapeFor(site.hook(), local.size(), len, width);
            out.add(Intervention.replace(site.hook(), new Tensor(shape, data), rows, sourceRows, positions, null));
        }
        return out;
    }

    /** Patchable hooks are {@code [batch, pos, d]} ones (residual stream, block outputs). */
    private static long[] shapeFor(String hook, int rows, int len, int width) {
        if (hook.contains(".attn.hook_")) {
            throw new IllegalArgumentException("batched patching supports [batch, pos, d] hooks only, not " + hook);
        }
        return new long[] {rows, len, width};
    }

    /** Positions -len..-1 of a sequence, i.e. every position, counted from the end. */
    public static int[] allFromEnd(int len) {
        int[] out = new int[len];
        for (int i = 0; i < len; i++) out[i] = i - len;
        return out;
    }
}
