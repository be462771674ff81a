package org.refusallab.api.result;

import java.util.List;

/**
 * A figure, rendered with ECharts and exported as JSON and CSV. For LINE, BAR and SCATTER each series has one y
 * per x category (x values in {@code xLabels}); for HEATMAP there is one series whose {@code values} is
 * {@code [row][column]} with rows labelled by {@code yLabels} and columns by {@code xLabels}; for HISTOGRAM each
 * series holds raw samples in {@code values[0]} and the renderer bins them.
 */
public record Figure(String id, String title, Kind kind, String xTitle, String yTitle, String unit,
                     List<String> xLabels, List<String> yLabels, List<Series> series,
                     List<ReferenceLine> referenceLines, String caption) {

    public enum Kind { LINE, BAR, HEATMAP, HISTOGRAM, SCATTER }

    public Figure {
        if (id == null || !id.matches("[a-z0-9][a-z0-9-]*")) throw new IllegalArgumentException("figure id must be lower-case-dashed: " + id);
        xLabels = xLabels == null ? List.of() : List.copyOf(xLabels);
        yLabels = yLabels == null ? List.of() : List.copyOf(yLabels);
        series = series == null ? List.of() : List.copyOf(series);
        referenceLines = referenceLines == null ? List.of() : List.copyOf(referenceLines);
    }

    /** A named series; {@code values[i]} is one row (one row for line/bar/scatter). */
    public record Series(String name, double[][] values) {
        public static Series of(String name, double[] ys) {
            return new Series(name, new double[][] {ys});
        }
    }

    /** A horizontal (axis "y") or vertical (axis "x") line such as the seed's 50% threshold. */
    public record ReferenceLine(String label, String axis, double value) { }
}
