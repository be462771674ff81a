package org.refusallab.platform.testbundles.dup.v1;

import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.result.AnalysisResult;

@Component(service = Analysis.class)
public class DupAnalysis implements Analysis {
    public String id() { return "dup"; }
    public String title() { return "Duplicate id (v1)"; }
    public int order() { return 50; }
    public Map<String, String> parameters() { return Map.of(); }
    public AnalysisResult run(AnalysisContext ctx) { return new AnalysisResult("dup v1", List.of(), List.of(), List.of()); }
}
