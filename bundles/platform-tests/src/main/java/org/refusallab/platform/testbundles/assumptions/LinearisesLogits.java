package org.refusallab.platform.testbundles.assumptions;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Assumption;
import org.refusallab.api.result.AnalysisResult;

/** Linearises the logits where the model soft-caps them: it runs on every model and says which reading it used. */
@Component(service = Analysis.class)
@AnalysisInfo(id = "linearises-logits", title = "Linearises the logits", order = 20,
        assumes = Assumption.RESIDUAL_IS_SUM_OF_BLOCK_OUTPUTS, linearises = Assumption.LINEAR_LOGITS)
public class LinearisesLogits implements Analysis {

    public AnalysisResult run(AnalysisContext ctx) {
        boolean capped = ctx.model().architecture().softCapsLogits();
        return new AnalysisResult(capped ? "pre-soft-cap logits" : "logits", List.of(), List.of(), List.of());
    }
}
