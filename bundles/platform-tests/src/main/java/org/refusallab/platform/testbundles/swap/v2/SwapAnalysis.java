package org.refusallab.platform.testbundles.swap.v2;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;

@Component(service = Analysis.class)
@AnalysisInfo(id = "swap", title = "Hot-swapped analysis", order = 60)
public class SwapAnalysis implements Analysis {
    public AnalysisResult run(AnalysisContext ctx) { return new AnalysisResult("swap v2", List.of(), List.of(), List.of()); }
}
