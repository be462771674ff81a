package org.refusallab.platform.testbundles.twins;

import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.result.AnalysisResult;

/** One of two analyses of this bundle claiming the id "slow", the id of a running analysis of another bundle. */
@Component(service = Analysis.class)
public class FirstTwin implements Analysis {
    public String id() { return "slow"; }
    public String title() { return "First twin"; }
    public int order() { return 30; }
    public Map<String, String> parameters() { return Map.of(); }
    public AnalysisResult run(AnalysisContext ctx) { return new AnalysisResult("first twin", List.of(), List.of(), List.of()); }
}
