package org.refusallab.platform;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Table;

/**
 * Checks a result before it is rendered, so a malformed one becomes a failed section with a precise reason instead
 * of a broken page: ids unique and usable as file names, series lengths matching the labels, numbers finite (NaN is
 * accepted only in HEATMAP cells, e.g. masked attention), findings complete.
 */
public final class ResultValidator {

    private static final String ID = "[a-z0-9][a-z0-9-]*";

    private ResultValidator() { }

    /** The problems found, empty when the result can be published. */
    public static List<String> problems(AnalysisResult r) {
        List<String> p = new ArrayList<>();
        if (r == null) {
            p.add("run() returned null");
            return p;
        }
        Set<String> ids = new HashSet<>();
        for (Figure f : r.figures()) {
            if (f == null) { p.add("a figure is null"); continue; }
            String where = "figure " + f.id();
            if (!ids.add(f.id())) p.add(where + ": id used twice");
            if (f.kind() == null) { p.add(where + ": no kind"); continue; }
            if (f.series().isEmpty()) p.add(where + ": no series");
            switch (f.kind()) {
                case LINE, BAR, SCATTER -> {
                    if (f.xLabels().isEmpty()) p.add(where + ": no x labels");
                    for (Figure.Series s : f.series()) {
                        if (s.values() == null || s.values().length != 1) {
                            p.add(where + ", series " + s.name() + ": needs exactly one row of values");
                            continue;
                        }
                        double[] y = s.values()[0];
                        if (y.length != f.xLabels().size()) {
                            p.add(where + ", series " + s.name() + ": " + y.length + " values for " + f.xLabels().size() + " x labels");
                        }
                        finite(where + ", series " + s.name(), y, false, p);
                    }
                }
                case HEATMAP -> {
                    if (f.series().size() != 1) p.add(where + ": a heatmap has exactly one series, got " + f.series().size());
                    if (!f.series().isEmpty()) {
                        double[][] v = f.series().get(0).values();
                        if (v == null || v.length != f.yLabels().size()) {
                            p.add(where + ": " + (v == null ? 0 : v.length) + " rows for " + f.yLabels().size() + " y labels");
                        } else {
                            for (int r0 = 0; r0 < v.length; r0++) {
                                if (v[r0].length != f.xLabels().size()) {
                                    p.add(where + ", row " + r0 + ": " + v[r0].length + " cells for " + f.xLabels().size() + " x labels");
                                }
                                finite(where + ", row " + r0, v[r0], true, p);
                            }
                        }
                    }
                }
                case HISTOGRAM -> {
                    for (Figure.Series s : f.series()) {
                        if (s.values() == null || s.values().length != 1 || s.values()[0].length == 0) {
                            p.add(where + ", series " + s.name() + ": needs one non-empty row of samples");
                            continue;
                        }
                        finite(where + ", series " + s.name(), s.values()[0], false, p);
                    }
                }
            }
            Set<String> names = new HashSet<>();
            for (Figure.Series s : f.series()) {
                if (s.name() == null || s.name().isBlank()) p.add(where + ": a series has no name");
                else if (!names.add(s.name())) p.add(where + ": series name '" + s.name() + "' used twice");
            }
            for (Figure.ReferenceLine rl : f.referenceLines()) {
                if (!"x".equals(rl.axis()) && !"y".equals(rl.axis())) p.add(where + ": reference line axis must be \"x\" or \"y\", got " + rl.axis());
                if (!Double.isFinite(rl.value())) p.add(where + ": reference line " + rl.label() + " is not finite");
            }
        }
        for (Table t : r.tables()) {
            if (t == null) { p.add("a table is null"); continue; }
            if (t.id() == null || !t.id().matches(ID)) p.add("table id must be lower-case-dashed: " + t.id());
            else if (!ids.add(t.id())) p.add("table " + t.id() + ": id used twice (ids are shared with figures: they name the data files)");
            // cells cannot be null: Table copies its rows with List.copyOf, which rejects nulls
        }
        for (Finding f : r.findings()) {
            if (f == null || f.claim() == null || f.verdict() == null) p.add("a finding lacks its claim or verdict");
        }
        return p;
    }

    private static void finite(String where, double[] v, boolean nanAllowed, List<String> p) {
        for (int i = 0; i < v.length; i++) {
            if (Double.isInfinite(v[i]) || (!nanAllowed && Double.isNaN(v[i]))) {
                p.add(where + ": value " + i + " is " + v[i]);
                return;
            }
        }
    }
}
