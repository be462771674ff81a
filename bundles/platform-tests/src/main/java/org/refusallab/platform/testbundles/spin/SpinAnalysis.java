package org.refusallab.platform.testbundles.spin;

import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.result.AnalysisResult;

/** Loops forever and never looks at cancellation or interruption: {@code while (true) {}} with a counter to watch. */
@Component(service = Analysis.class)
public class SpinAnalysis implements Analysis {
    public static volatile long spins;
    public String id() { return "spin"; }
    public String title() { return "Spinning analysis"; }
    public int order() { return 60; }
    public Map<String, String> parameters() { return Map.of(); }
    public AnalysisResult run(AnalysisContext ctx) {
        while (true) {
            spins++;
        }
    }
}
