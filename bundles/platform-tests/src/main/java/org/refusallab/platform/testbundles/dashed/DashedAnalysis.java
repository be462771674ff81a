package org.refusallab.platform.testbundles.dashed;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Describe;
import org.refusallab.api.result.AnalysisResult;

/** An id with dashes, as the README names analyses: its Configuration Admin file must reach it. */
@Component(service = Analysis.class)
@AnalysisInfo(id = "dashed-id-analysis", title = "Dashed id", order = 70, parameters = DashedAnalysis.Params.class)
public class DashedAnalysis implements Analysis {

    @interface Params {
        @Describe("echoed in the summary")
        String greeting() default "dashed default";
    }

    public AnalysisResult run(AnalysisContext ctx) {
        return new AnalysisResult("greeting=" + ctx.parameters(Params.class).greeting(), List.of(), List.of(), List.of());
    }
}
