package org.refusallab.platform.testbundles.exit;

import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Describe;
import org.refusallab.api.result.AnalysisResult;

/** Tries to end the process: parameter "how" is exit (System.exit(3)), runtime-exit or halt. */
@Component(service = Analysis.class)
@AnalysisInfo(id = "exit", title = "Analysis that ends the process", order = 63, parameters = ExitAnalysis.Params.class)
public class ExitAnalysis implements Analysis {
    @interface Params {
        @Describe("exit (System.exit(3)), runtime-exit or halt")
        String how() default "exit";
    }

    public AnalysisResult run(AnalysisContext ctx) {
        switch (ctx.parameters(Params.class).how()) {
            case "halt" -> Runtime.getRuntime().halt(4);
            case "runtime-exit" -> Runtime.getRuntime().exit(5);
            default -> System.exit(3);
        }
        return null;
    }
}
