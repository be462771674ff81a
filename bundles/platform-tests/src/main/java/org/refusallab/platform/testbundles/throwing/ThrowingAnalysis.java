package org.refusallab.platform.testbundles.throwing;

import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;

@Component(service = Analysis.class)
@AnalysisInfo(id = "throwing", title = "Throwing analysis", order = 20)
public class ThrowingAnalysis implements Analysis {
    public AnalysisResult run(AnalysisContext ctx) { throw new IllegalStateException("boom from the analysis"); }
}
