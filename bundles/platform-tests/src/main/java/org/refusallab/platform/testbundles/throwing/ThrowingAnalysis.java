package org.refusallab.platform.testbundles.throwing;

import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.result.AnalysisResult;

@Component(service = Analysis.class)
public class ThrowingAnalysis implements Analysis {
    public String id() { return "throwing"; }
    public String title() { return "Throwing analysis"; }
    public int order() { return 20; }
    public Map<String, String> parameters() { return Map.of(); }
    public AnalysisResult run(AnalysisContext ctx) { throw new IllegalStateException("boom from the analysis"); }
}
