package org.refusallab.platform.testbundles.endless;

import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.result.AnalysisResult;

/** Runs until cancelled, with no time limit of its own: only its bundle going away stops it. */
@Component(service = Analysis.class)
public class EndlessAnalysis implements Analysis {
    public String id() { return "endless"; }
    public String title() { return "Endless analysis"; }
    public int order() { return 70; }
    public Map<String, String> parameters() { return Map.of(); }
    public AnalysisResult run(AnalysisContext ctx) throws InterruptedException {
        while (true) {
            Thread.sleep(20);
            ctx.checkCancelled();
        }
    }
}
