package org.refusallab.platform.testbundles.twins;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;

/** The other of two analyses of this bundle claiming the id "slow", the id of a running analysis of another bundle. */
@Component(service = Analysis.class)
@AnalysisInfo(id = "slow", title = "Second twin", order = 30)
public class SecondTwin implements Analysis {
    public AnalysisResult run(AnalysisContext ctx) { return new AnalysisResult("second twin", List.of(), List.of(), List.of()); }
}
