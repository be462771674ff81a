package org.refusallab.api.study;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The seed's classes of the middle-layer heads ("Deep Dive: L6-L12 Attention Patterns") from their attention
 * patterns on the study's pairs, with every head's scores and the reading used. Scores are indexed
 * {@code [layer - fromLayer][head]}; each is the mean over {@code promptCount} prompts:
 * <ul>
 * <li>bos: mean over queries 1..n-1 of the attention to the BOS key (the first real position);</li>
 * <li>direct: the last query's attention to the subject key (the token where the pair's prompts differ);</li>
 * <li>diagonal: pattern[q, q-1] over queries 1..n-1, as the mean or (the seed's literal words) the sum.</li>
 * </ul>
 * Get it from {@link Study#headClasses()}: computed once per run and parameters, whichever analysis asks first.
 */
public record HeadClasses(int fromLayer, int toLayer, int nHeads, double[][] bos, double[][] direct, double[][] diagonal,
        Kind[][] classes, double threshold, double bosThreshold, String diagonalReading, String prompts, int promptCount)
        implements Serializable {

    /** The classes; a head is in exactly one. */
    public enum Kind { DIRECT, DIAGONAL, BOS, OTHER }

    /** One head, e.g. L8H7. */
    public record Head(int layer, int head) implements Serializable {
        public String label() {
            return "L" + layer + "H" + head;
        }
    }

    public HeadClasses {
        if (fromLayer < 0 || toLayer <= fromLayer) throw new IllegalArgumentException("bad layer range " + fromLayer + "-" + toLayer);
        int n = toLayer - fromLayer;
        for (Object[] a : new Object[][] {bos, direct, diagonal, classes}) {
            if (a.length != n) throw new IllegalArgumentException("scores need " + n + " layers, got " + a.length);
        }
    }

    /**
     * The rule, in this order: direct if direct >= threshold; else diagonal if diagonal >= threshold; else BOS if
     * bos >= bosThreshold; else other. (Direct wins a tie with diagonal: the seed's classes are disjoint.)
     */
    public static Kind classify(double direct, double diagonal, double bos, double threshold, double bosThreshold) {
        if (direct >= threshold) return Kind.DIRECT;
        if (diagonal >= threshold) return Kind.DIAGONAL;
        if (bos >= bosThreshold) return Kind.BOS;
        return Kind.OTHER;
    }

    public boolean covers(int layer) {
        return layer >= fromLayer && layer < toLayer;
    }

    public Kind kind(int layer, int head) {
        if (!covers(layer)) throw new IllegalArgumentException("layer " + layer + " is outside the classified range L" + fromLayer + "-L" + toLayer);
        return classes[layer - fromLayer][head];
    }

    /** Every classified head, layer by layer. */
    public List<Head> heads() {
        List<Head> out = new ArrayList<>();
        for (int l = fromLayer; l < toLayer; l++) {
            for (int h = 0; h < nHeads; h++) out.add(new Head(l, h));
        }
        return out;
    }

    /** The heads of one class, layer by layer. */
    public List<Head> heads(Kind kind) {
        return heads().stream().filter(h -> kind(h.layer(), h.head()) == kind).toList();
    }

    /**
     * Heads grouped by layer, in layer order, each layer's head indices in the given order: what one
     * {@code Intervention.at(Hooks.attnResult(layer)).heads(...)} per layer needs.
     *
     * @since 1.3
     */
    public static java.util.Map<Integer, int[]> byLayer(List<Head> heads) {
        java.util.Map<Integer, List<Integer>> m = new java.util.TreeMap<>();
        for (Head h : heads) m.computeIfAbsent(h.layer(), k -> new ArrayList<>()).add(h.head());
        java.util.Map<Integer, int[]> out = new java.util.LinkedHashMap<>();
        m.forEach((l, hs) -> out.put(l, hs.stream().mapToInt(Integer::intValue).toArray()));
        return out;
    }

    public double bos(Head h) { return bos[h.layer() - fromLayer][h.head()]; }
    public double direct(Head h) { return direct[h.layer() - fromLayer][h.head()]; }
    public double diagonal(Head h) { return diagonal[h.layer() - fromLayer][h.head()]; }

    /** "L6-L12" style label of the range (half-open). */
    public String rangeLabel() {
        return "L" + fromLayer + "-L" + toLayer;
    }
}
