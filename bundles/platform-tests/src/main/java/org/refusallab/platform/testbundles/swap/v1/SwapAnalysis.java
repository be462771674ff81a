package org.refusallab.platform.testbundles.swap.v1;

import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.result.AnalysisResult;

@Component(service = Analysis.class)
public class SwapAnalysis implements Analysis {
    public String id() { return "swap"; }
    public String title() { return "Hot-swapped analysis"; }
    public int order() { return 60; }
    public Map<String, String> parameters() { return Map.of(); }
    public AnalysisResult run(AnalysisContext ctx) { return new AnalysisResult("swap v1", List.of(), List.of(), List.of()); }
}
