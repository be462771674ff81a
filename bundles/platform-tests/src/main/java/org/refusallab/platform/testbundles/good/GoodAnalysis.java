package org.refusallab.platform.testbundles.good;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Describe;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;

/** Reads the model service and its parameters; the logits it plots are known in closed form from FakeModel. */
@Component(service = Analysis.class)
@AnalysisInfo(id = "good", title = "Good analysis", order = 10, parameters = GoodAnalysis.Params.class)
public class GoodAnalysis implements Analysis {

    @interface Params {
        @Describe("echoed in the summary")
        String greeting() default "default greeting";

        @Describe("not read: shows a dotted key (nested study.json object) declared as nested_key")
        String nested_key() default "";
    }

    public AnalysisResult run(AnalysisContext ctx) {
        var r = ctx.model().run(ForwardRequest.of(List.of(new int[] {1, 2, 3})));
        double[] ys = new double[4];
        for (int v = 0; v < 4; v++) ys[v] = r.lastLogits().get(0, v);
        ctx.shared("good.first-logit", Double.class, () -> ys[0]);
        return new AnalysisResult("greeting=" + ctx.parameters(Params.class).greeting() + " layers=" + ctx.model().info().nLayers(),
                List.of(new Figure("logits", "Logits", Figure.Kind.LINE, "token", "logit", "", List.of("0", "1", "2", "3"), List.of(),
                        List.of(Figure.Series.of("logit", ys)), List.of(), "", null)), List.of(), List.of());
    }
}
