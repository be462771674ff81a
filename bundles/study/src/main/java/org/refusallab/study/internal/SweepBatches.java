package org.refusallab.study.internal;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;

/**
 * How a sweep's rows become forwards: forward rows and generation rows apart, each kind bucketed by length (a stable
 * sort on the token count, so rows of one length keep their order) and cut into batches of at most {@code maxBatch}.
 * Every sweep service uses this one plan, so in-process and distributed runs compute the same padded batches and
 * therefore the same floats.
 */
public final class SweepBatches {

    /** One forward (or one batched decoding when {@code generation}): the ids are indices into the sweep's rows. */
    public record Batch(int[] ids, boolean generation) implements Serializable {
        public Batch {
            ids = ids.clone();
        }

        @Override
        public int[] ids() {
            return ids.clone();
        }

        public List<Row> rows(List<Row> all) {
            return Arrays.stream(ids).mapToObj(all::get).toList();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Batch b && generation == b.generation && Arrays.equals(ids, b.ids);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(ids) + Boolean.hashCode(generation);
        }

        @Override
        public String toString() {
            return (generation ? "generation" : "forward") + Arrays.toString(ids);
        }
    }

    private SweepBatches() { }

    public static List<Batch> plan(List<Row> rows, int maxBatch) {
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        List<Integer> forward = new ArrayList<>(), generate = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            boolean gen = isGeneration(rows.get(i));
            if (gen && rows.get(i).readOuts().size() != 1) {
                throw new IllegalArgumentException("row " + i + ": a generation read-out cannot be combined with other read-outs");
            }
            (gen ? generate : forward).add(i);
        }
        List<Batch> out = new ArrayList<>();
        cut(rows, forward, maxBatch, false, out);
        cut(rows, generate, maxBatch, true, out);
        return out;
    }

    static boolean isGeneration(Row row) {
        return row.readOuts().stream().anyMatch(r -> r instanceof ReadOut.Generation);
    }

    private static void cut(List<Row> rows, List<Integer> ids, int maxBatch, boolean generation, List<Batch> out) {
        List<Integer> byLength = new ArrayList<>(ids);
        byLength.sort(Comparator.comparingInt(i -> rows.get(i).length())); // stable: equal lengths keep row order
        for (int start = 0; start < byLength.size(); start += maxBatch) {
            List<Integer> part = byLength.subList(start, Math.min(byLength.size(), start + maxBatch));
            out.add(new Batch(part.stream().mapToInt(Integer::intValue).toArray(), generation));
        }
    }
}
