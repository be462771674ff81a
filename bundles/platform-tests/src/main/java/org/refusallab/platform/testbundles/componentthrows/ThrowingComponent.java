package org.refusallab.platform.testbundles.componentthrows;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;

/** An analysis component whose activation throws: SCR registers its service, but cannot produce the object. */
@Component(service = Analysis.class)
@AnalysisInfo(id = "component-throws", title = "Component that throws", order = 64)
public class ThrowingComponent implements Analysis {
    @Activate
    void activate() {
        throw new IllegalStateException("component activation exploded on purpose");
    }
    public AnalysisResult run(AnalysisContext ctx) { return null; }
}
