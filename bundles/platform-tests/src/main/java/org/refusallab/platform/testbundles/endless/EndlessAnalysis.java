package org.refusallab.platform.testbundles.endless;

import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;

/** Runs until cancelled, with no time limit of its own: only its bundle going away stops it. */
@Component(service = Analysis.class)
@AnalysisInfo(id = "endless", title = "Endless analysis", order = 70)
public class EndlessAnalysis implements Analysis {
    public AnalysisResult run(AnalysisContext ctx) throws InterruptedException {
        while (true) {
            Thread.sleep(20);
            ctx.checkCancelled();
        }
    }
}
