package org.refusallab.platform.testbundles.assumptions;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Assumption;
import org.refusallab.api.result.AnalysisResult;

/** Assumes linear logits with no linearisation: on a soft-capped model the platform must not run it. */
@Component(service = Analysis.class)
@AnalysisInfo(id = "needs-linear-logits", title = "Needs linear logits", order = 10, assumes = Assumption.LINEAR_LOGITS)
public class NeedsLinearLogits implements Analysis {

    /** How often run() was called (read by the test through the bundle's class loader). */
    public static volatile int runs;

    public AnalysisResult run(AnalysisContext ctx) {
        runs++;
        return new AnalysisResult("a number that assumes linear logits", List.of(), List.of(), List.of());
    }
}
