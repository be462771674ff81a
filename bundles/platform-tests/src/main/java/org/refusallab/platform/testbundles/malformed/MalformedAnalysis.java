package org.refusallab.platform.testbundles.malformed;

import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;

/** Two values for three x labels, and a NaN in a line. */
@Component(service = Analysis.class)
public class MalformedAnalysis implements Analysis {
    public String id() { return "malformed"; }
    public String title() { return "Malformed analysis"; }
    public int order() { return 40; }
    public Map<String, String> parameters() { return Map.of(); }
    public AnalysisResult run(AnalysisContext ctx) {
        return new AnalysisResult("bad", List.of(
                new Figure("short", "Short", Figure.Kind.LINE, "x", "y", "", List.of("a", "b", "c"), List.of(),
                        List.of(Figure.Series.of("s", new double[] {1, 2})), List.of(), ""),
                new Figure("nan", "NaN", Figure.Kind.BAR, "x", "y", "", List.of("a"), List.of(),
                        List.of(Figure.Series.of("s", new double[] {Double.NaN})), List.of(), "")), List.of(), List.of());
    }
}
