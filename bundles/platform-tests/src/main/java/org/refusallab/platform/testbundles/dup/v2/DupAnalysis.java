package org.refusallab.platform.testbundles.dup.v2;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;

@Component(service = Analysis.class)
@AnalysisInfo(id = "dup", title = "Duplicate id (v2)", order = 50)
public class DupAnalysis implements Analysis {
    public AnalysisResult run(AnalysisContext ctx) { return new AnalysisResult("dup v2", List.of(), List.of(), List.of()); }
}
