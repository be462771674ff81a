package org.refusallab.platform.testbundles.exit;

import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.result.AnalysisResult;

/** Tries to end the process: parameter "how" is exit (System.exit(3)), runtime-exit or halt. */
@Component(service = Analysis.class)
public class ExitAnalysis implements Analysis {
    public String id() { return "exit"; }
    public String title() { return "Analysis that ends the process"; }
    public int order() { return 63; }
    public Map<String, String> parameters() { return Map.of("how", "exit"); }
    public AnalysisResult run(AnalysisContext ctx) {
        switch (ctx.parameter("how", "exit")) {
            case "halt" -> Runtime.getRuntime().halt(4);
            case "runtime-exit" -> Runtime.getRuntime().exit(5);
            default -> System.exit(3);
        }
        return null;
    }
}
