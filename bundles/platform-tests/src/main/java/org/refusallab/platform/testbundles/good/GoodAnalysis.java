package org.refusallab.platform.testbundles.good;

import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;

/** Reads the model service and its parameters; the logits it plots are known in closed form from FakeModel. */
@Component(service = Analysis.class)
public class GoodAnalysis implements Analysis {
    public String id() { return "good"; }
    public String title() { return "Good analysis"; }
    public int order() { return 10; }
    public Map<String, String> parameters() { return Map.of("greeting", "default greeting"); }

    public AnalysisResult run(AnalysisContext ctx) {
        var r = ctx.model().run(ForwardRequest.of(List.of(new int[] {1, 2, 3})));
        double[] ys = new double[4];
        for (int v = 0; v < 4; v++) ys[v] = r.lastLogits().get(0, v);
        ctx.shared().put("good.first-logit", ys[0]);
        return new AnalysisResult("greeting=" + ctx.parameter("greeting", "?") + " layers=" + ctx.model().info().nLayers(),
                List.of(new Figure("logits", "Logits", Figure.Kind.LINE, "token", "logit", "", List.of("0", "1", "2", "3"), List.of(),
                        List.of(Figure.Series.of("logit", ys)), List.of(), "")), List.of(), List.of());
    }
}
