package org.refusallab.platform.testbundles.slow;

import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;

/** Works until told to stop, like a long analysis checking cancellation between batches. */
@Component(service = Analysis.class)
@AnalysisInfo(id = "slow", title = "Slow analysis", order = 30)
public class SlowAnalysis implements Analysis {
    public static volatile boolean sawCancellation;
    public AnalysisResult run(AnalysisContext ctx) {
        while (true) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                // the platform interrupts too; keep going until the flag says so, as analyses poll it
            }
            if (ctx.cancelled()) {
                sawCancellation = true;
                ctx.checkCancelled();
            }
        }
    }
}
