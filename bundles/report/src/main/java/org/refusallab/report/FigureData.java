package org.refusallab.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Table;

/**
 * The data behind a figure as exported beside it (site/data/&lt;analysis&gt;/&lt;figure&gt;.json and .csv) and
 * embedded in its page. The layout is documented in report-templates/schema.md; change both together.
 */
public final class FigureData {

    public static final String SCHEMA = "refusal-lab-figure/1";

    private FigureData() { }

    /** A table's description beside its CSV: id, title, columns, caption and provenance (the cells are in the CSV). */
    public static ObjectNode tableJson(ObjectMapper mapper, String analysisId, Table t) {
        ObjectNode n = mapper.createObjectNode();
        n.put("schema", "refusal-lab-table/1");
        n.put("analysis", analysisId);
        n.put("id", t.id());
        n.put("title", t.title());
        t.columns().forEach(n.putArray("columns")::add);
        n.put("rows", t.rows().size());
        n.put("caption", t.caption());
        n.set("provenance", provenance(mapper, t.provenance()));
        return n;
    }

    /** What a figure or table was computed from: hooks read, interventions run, the direction used. */
    public static ObjectNode provenance(ObjectMapper mapper, org.refusallab.api.result.Provenance p) {
        ObjectNode n = mapper.createObjectNode();
        ArrayNode hooks = n.putArray("hooks");
        p.hooks().forEach(hooks::add);
        ArrayNode edits = n.putArray("interventions");
        for (var e : p.interventions()) {
            ObjectNode o = edits.addObject();
            o.put("kind", e.kind());
            o.put("hook", e.hook());
            o.put("layer", e.layer());
            if (e.positions() == null) o.putNull("positions"); else e.positions().forEach(o.putArray("positions")::add);
            if (e.heads() == null) o.putNull("heads"); else e.heads().forEach(o.putArray("heads")::add);
            o.put("count", e.count());
            o.put("example", e.example());
        }
        if (p.direction() == null) {
            n.putNull("direction");
        } else {
            var d = p.direction();
            n.putObject("direction").put("name", d.name()).put("layer", d.layer()).put("position", d.position()).put("norm", d.norm())
                    .put("sha256", d.sha256()).put("source", d.source());
        }
        return n;
    }

    /** The figure as a JSON tree; non-finite numbers become null (JSON has no NaN). Histograms also carry their bins. */
    public static ObjectNode json(ObjectMapper mapper, String analysisId, Figure f) {
        ObjectNode n = mapper.createObjectNode();
        n.put("schema", SCHEMA);
        n.put("analysis", analysisId);
        n.put("id", f.id());
        n.put("title", f.title());
        n.put("kind", f.kind().name());
        n.put("xTitle", f.xTitle());
        n.put("yTitle", f.yTitle());
        n.put("unit", f.unit());
        n.put("caption", f.caption());
        ArrayNode xs = n.putArray("xLabels");
        f.xLabels().forEach(xs::add);
        ArrayNode ys = n.putArray("yLabels");
        f.yLabels().forEach(ys::add);
        ArrayNode series = n.putArray("series");
        for (Figure.Series s : f.series()) {
            ObjectNode sn = series.addObject();
            sn.put("name", s.name());
            ArrayNode rows = sn.putArray("values");
            for (double[] row : s.values()) {
                ArrayNode r = rows.addArray();
                for (double v : row) {
                    if (Double.isFinite(v)) r.add(v); else r.addNull();
                }
            }
        }
        n.set("provenance", provenance(mapper, f.provenance()));
        ArrayNode refs = n.putArray("referenceLines");
        for (Figure.ReferenceLine rl : f.referenceLines()) {
            refs.addObject().put("label", rl.label()).put("axis", rl.axis()).put("value", rl.value());
        }
        if (f.kind() == Figure.Kind.HISTOGRAM) {
            Histogram h = Histogram.of(f.series());
            ObjectNode bins = n.putObject("bins");
            ArrayNode edges = bins.putArray("edges");
            for (double e : h.edges()) edges.add(e);
            ObjectNode counts = bins.putObject("counts");
            for (int i = 0; i < f.series().size(); i++) {
                ArrayNode c = counts.putArray(f.series().get(i).name());
                for (long k : h.counts()[i]) c.add(k);
            }
        }
        return n;
    }

    /**
     * The figure in long format, one value per row: {@code series,x,y} for LINE/BAR/SCATTER, {@code row,column,value}
     * for HEATMAP, {@code series,sample} for HISTOGRAM (raw samples; the bins are in the JSON). Non-finite values are
     * written as empty cells.
     */
    public static List<List<String>> csvRows(Figure f) {
        List<List<String>> rows = new ArrayList<>();
        switch (f.kind()) {
            case LINE, BAR, SCATTER -> {
                rows.add(List.of("series", "x", "y"));
                for (Figure.Series s : f.series()) {
                    double[] y = s.values()[0];
                    for (int i = 0; i < y.length; i++) rows.add(List.of(s.name(), f.xLabels().get(i), number(y[i])));
                }
            }
            case HEATMAP -> {
                rows.add(List.of("row", "column", "value"));
                double[][] v = f.series().get(0).values();
                for (int r = 0; r < v.length; r++) {
                    for (int c = 0; c < v[r].length; c++) rows.add(List.of(f.yLabels().get(r), f.xLabels().get(c), number(v[r][c])));
                }
            }
            case HISTOGRAM -> {
                rows.add(List.of("series", "sample"));
                for (Figure.Series s : f.series()) {
                    for (double v : s.values()[0]) rows.add(List.of(s.name(), number(v)));
                }
            }
        }
        return rows;
    }

    public static List<List<String>> csvRows(Table t) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(t.columns());
        rows.addAll(t.rows());
        return rows;
    }

    /** Shortest text that reads back as the same double. */
    static String number(double v) {
        if (!Double.isFinite(v)) return "";
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return Double.toString(v);
    }
}
