package org.refusallab.platform.testbundles.malformed;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;

/** Two values for three x labels, and a NaN in a line. */
@Component(service = Analysis.class)
@AnalysisInfo(id = "malformed", title = "Malformed analysis", order = 40)
public class MalformedAnalysis implements Analysis {
    public AnalysisResult run(AnalysisContext ctx) {
        return new AnalysisResult("bad", List.of(
                new Figure("short", "Short", Figure.Kind.LINE, "x", "y", "", List.of("a", "b", "c"), List.of(),
                        List.of(Figure.Series.of("s", new double[] {1, 2})), List.of(), "", null),
                new Figure("nan", "NaN", Figure.Kind.BAR, "x", "y", "", List.of("a"), List.of(),
                        List.of(Figure.Series.of("s", new double[] {Double.NaN})), List.of(), "", null)), List.of(), List.of());
    }
}
