package org.refusallab.api.result;

import java.util.ArrayList;
import java.util.List;

/**
 * A figure, rendered with ECharts and exported as JSON and CSV with its {@link Provenance}. For LINE, BAR and SCATTER
 * each series has one y per x category ({@code xLabels}); for HEATMAP one series whose {@code values} is
 * {@code [row][column]}, rows labelled by {@code yLabels}, columns by {@code xLabels}; for HISTOGRAM each series holds
 * raw samples in {@code values[0]} and the renderer bins them. Built with named steps:
 *
 * <pre>{@code
 * Figure.bar("token-logit").title("Logit of I").x("prompt", labels).y("logit", "")
 *       .series("logit", values).referenceLine("50%", 0.5).caption("...").provenance(p).build()
 * }</pre>
 */
public record Figure(String id, String title, Kind kind, String xTitle, String yTitle, String unit,
                     List<String> xLabels, List<String> yLabels, List<Series> series,
                     List<ReferenceLine> referenceLines, String caption, Provenance provenance) {

    public enum Kind { LINE, BAR, HEATMAP, HISTOGRAM, SCATTER }

    public Figure {
        if (id == null || !id.matches("[a-z0-9][a-z0-9-]*")) throw new IllegalArgumentException("figure id must be lower-case-dashed: " + id);
        if (kind == null) throw new IllegalArgumentException("figure " + id + " without a kind");
        xLabels = xLabels == null ? List.of() : List.copyOf(xLabels);
        yLabels = yLabels == null ? List.of() : List.copyOf(yLabels);
        series = series == null ? List.of() : List.copyOf(series);
        referenceLines = referenceLines == null ? List.of() : List.copyOf(referenceLines);
        provenance = provenance == null ? Provenance.NONE : provenance;
    }

    /** A named series; {@code values[i]} is one row (one row for line/bar/scatter). */
    public record Series(String name, double[][] values) {
        public static Series of(String name, double[] ys) {
            return new Series(name, new double[][] {ys});
        }
    }

    /** A horizontal (axis "y") or vertical (axis "x") line such as the seed's 50% threshold. */
    public record ReferenceLine(String label, String axis, double value) { }

    public static Builder line(String id) { return new Builder(id, Kind.LINE); }
    public static Builder bar(String id) { return new Builder(id, Kind.BAR); }
    public static Builder heatmap(String id) { return new Builder(id, Kind.HEATMAP); }
    public static Builder histogram(String id) { return new Builder(id, Kind.HISTOGRAM); }
    public static Builder scatter(String id) { return new Builder(id, Kind.SCATTER); }

    public static final class Builder {
        private final String id;
        private final Kind kind;
        private String title, xTitle, yTitle, unit = "", caption;
        private List<String> xLabels = List.of(), yLabels = List.of();
        private final List<Series> series = new ArrayList<>();
        private final List<ReferenceLine> lines = new ArrayList<>();
        private Provenance provenance = Provenance.NONE;

        private Builder(String id, Kind kind) {
            this.id = id;
            this.kind = kind;
        }

        public Builder title(String title) { this.title = title; return this; }

        /** The x axis: its title and category labels (columns of a heatmap). */
        public Builder x(String title, List<String> labels) { this.xTitle = title; this.xLabels = labels; return this; }

        public Builder x(String title) { this.xTitle = title; return this; }

        /** The y axis title and the unit of the values. */
        public Builder y(String title, String unit) { this.yTitle = title; this.unit = unit; return this; }

        /** Row labels of a heatmap. */
        public Builder rows(List<String> labels) { this.yLabels = labels; return this; }

        public Builder series(String name, double[] ys) { series.add(Series.of(name, ys)); return this; }

        /** A heatmap's cells {@code [row][column]}, or a histogram's samples in one row. */
        public Builder cells(String name, double[][] values) { series.add(new Series(name, values)); return this; }

        /** A horizontal reference line at y = value. */
        public Builder referenceLine(String label, double value) { lines.add(new ReferenceLine(label, "y", value)); return this; }

        public Builder caption(String caption) { this.caption = caption; return this; }

        public Builder provenance(Provenance provenance) { this.provenance = provenance; return this; }

        public Figure build() {
            return new Figure(id, title == null ? id : title, kind, xTitle, yTitle, unit, xLabels, yLabels, series, lines, caption, provenance);
        }
    }
}
