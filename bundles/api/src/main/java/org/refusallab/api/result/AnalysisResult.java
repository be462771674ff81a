package org.refusallab.api.result;

import java.util.List;

/** What one analysis contributes to the report: a summary paragraph, figures, tables and findings. */
public record AnalysisResult(String summary, List<Figure> figures, List<Table> tables, List<Finding> findings) {
    public AnalysisResult {
        figures = figures == null ? List.of() : List.copyOf(figures);
        tables = tables == null ? List.of() : List.copyOf(tables);
        findings = findings == null ? List.of() : List.copyOf(findings);
    }
}
