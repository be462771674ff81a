package org.refusallab.api.result;

import java.util.List;

/** A table of text cells (escaped when rendered: model output may contain HTML). */
public record Table(String id, String title, List<String> columns, List<List<String>> rows, String caption) {
    public Table {
        columns = List.copyOf(columns);
        rows = rows.stream().map(List::copyOf).toList();
        for (List<String> r : rows) {
            if (r.size() != columns.size()) throw new IllegalArgumentException("table " + id + ": row has " + r.size() + " cells, expected " + columns.size());
        }
    }
}
