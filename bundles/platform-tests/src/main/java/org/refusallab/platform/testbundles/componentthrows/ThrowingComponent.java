package org.refusallab.platform.testbundles.componentthrows;

import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.result.AnalysisResult;

/** An analysis component whose activation throws: SCR registers its service, but cannot produce the object. */
@Component(service = Analysis.class)
public class ThrowingComponent implements Analysis {
    @Activate
    void activate() {
        throw new IllegalStateException("component activation exploded on purpose");
    }
    public String id() { return "component-throws"; }
    public String title() { return "Component that throws"; }
    public int order() { return 64; }
    public Map<String, String> parameters() { return Map.of(); }
    public AnalysisResult run(AnalysisContext ctx) { return null; }
}
