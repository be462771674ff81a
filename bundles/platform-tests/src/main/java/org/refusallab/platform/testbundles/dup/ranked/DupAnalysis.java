package org.refusallab.platform.testbundles.dup.ranked;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;

/** The id "dup" again, from a lower bundle version but with a service ranking: the ranking decides first. */
@Component(service = Analysis.class, property = "service.ranking:Integer=10")
@AnalysisInfo(id = "dup", title = "Duplicate id (ranked)", order = 50)
public class DupAnalysis implements Analysis {
    public AnalysisResult run(AnalysisContext ctx) { return new AnalysisResult("dup ranked", List.of(), List.of(), List.of()); }
}
