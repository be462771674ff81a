package org.refusallab.report;

import java.util.List;
import org.refusallab.api.result.Figure;

/**
 * Bins shared by all series of a histogram figure so they can be compared bar by bar: equal-width bins over the
 * pooled [min, max] of the finite samples, {@code ceil(sqrt(n))} of them clamped to [5, 60] (n = pooled count).
 * Bins are [edge[i], edge[i+1]), the last one closed.
 */
public record Histogram(double[] edges, long[][] counts) {

    public static Histogram of(List<Figure.Series> series) {
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        long n = 0;
        for (Figure.Series s : series) {
            for (double v : s.values()[0]) {
                if (!Double.isFinite(v)) continue;
                min = Math.min(min, v);
                max = Math.max(max, v);
                n++;
            }
        }
        if (n == 0) {
            min = 0;
            max = 1;
        }
        if (max == min) { // a single value: one unit-wide bin around it keeps the bar visible
            min -= 0.5;
            max += 0.5;
        }
        int bins = (int) Math.max(5, Math.min(60, Math.ceil(Math.sqrt(n))));
        double[] edges = new double[bins + 1];
        double width = (max - min) / bins;
        for (int i = 0; i <= bins; i++) edges[i] = min + i * width;
        edges[bins] = max;
        long[][] counts = new long[series.size()][bins];
        for (int s = 0; s < series.size(); s++) {
            for (double v : series.get(s).values()[0]) {
                if (!Double.isFinite(v)) continue;
                int b = (int) Math.floor((v - min) / width);
                counts[s][Math.min(Math.max(b, 0), bins - 1)]++;
            }
        }
        return new Histogram(edges, counts);
    }
}
