package org.refusallab.api.result;

import java.util.ArrayList;
import java.util.List;

/** A table of text cells (escaped when rendered: model output may contain HTML), with its {@link Provenance}. */
public record Table(String id, String title, List<String> columns, List<List<String>> rows, String caption, Provenance provenance) {
    public Table {
        columns = List.copyOf(columns);
        rows = rows.stream().map(List::copyOf).toList();
        for (List<String> r : rows) {
            if (r.size() != columns.size()) throw new IllegalArgumentException("table " + id + ": row has " + r.size() + " cells, expected " + columns.size());
        }
        provenance = provenance == null ? Provenance.NONE : provenance;
    }

    /** {@code Table.of("per-prompt").title(..).columns("a", "b").row("1", "2").caption(..).build()}. */
    public static Builder of(String id) {
        return new Builder(id);
    }

    public static final class Builder {
        private final String id;
        private String title, caption;
        private List<String> columns = List.of();
        private final List<List<String>> rows = new ArrayList<>();
        private Provenance provenance = Provenance.NONE;

        private Builder(String id) {
            this.id = id;
        }

        public Builder title(String title) { this.title = title; return this; }
        public Builder columns(String... columns) { this.columns = List.of(columns); return this; }
        public Builder row(String... cells) { rows.add(List.of(cells)); return this; }
        public Builder row(List<String> cells) { rows.add(cells); return this; }
        public Builder rows(List<List<String>> rows) { this.rows.addAll(rows); return this; }
        public Builder caption(String caption) { this.caption = caption; return this; }
        public Builder provenance(Provenance provenance) { this.provenance = provenance; return this; }

        public Table build() {
            return new Table(id, title == null ? id : title, columns, rows, caption, provenance);
        }
    }
}
