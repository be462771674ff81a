package org.refusallab.platform.testbundles.spin;

import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;

/** Loops forever and never looks at cancellation or interruption: {@code while (true) {}} with a counter to watch. */
@Component(service = Analysis.class)
@AnalysisInfo(id = "spin", title = "Spinning analysis", order = 60)
public class SpinAnalysis implements Analysis {
    public static volatile long spins;
    public AnalysisResult run(AnalysisContext ctx) {
        while (true) {
            spins++;
        }
    }
}
