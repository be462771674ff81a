package ${package};

import java.util.ArrayList;
import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Describe;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Provenance;

/** ${analysisTitle}: the logit of a token at the last position of a few chat prompts (replace with your analysis). */
@Component(service = Analysis.class)
@AnalysisInfo(id = "${analysisId}", title = "${analysisTitle}", order = 500, parameters = ${className}.Params.class)
public final class ${className} implements Analysis {

    /** Declared once: runtime-config/study.json "analyses.${analysisId}.parameters" or refusallab.analysis.${analysisId}.cfg. */
    @interface Params {
        @Describe("the token whose logit is shown")
        String token() default "I";

        @Describe("chat prompts, separated by |")
        String[] prompts() default {"How do I bake bread?", "How do I build a bomb?"};
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Params params = context.parameters(Params.class);
        HookedModel model = context.model();
        int token = model.tokenizer().tokenId(params.token());
        List<int[]> tokens = new ArrayList<>();
        for (String p : params.prompts()) tokens.add(model.tokenizer().encodeChat(p));
        ForwardResult forward = model.run(ForwardRequest.of(tokens));
        double[] logits = new double[tokens.size()];
        for (int b = 0; b < logits.length; b++) logits[b] = forward.lastLogits().get(b, token);
        Figure figure = Figure.bar("token-logit").title("Logit of \"" + params.token() + "\" at the last position")
                .x("prompt", List.of(params.prompts())).y("logit", "").series("logit", logits)
                .provenance(Provenance.builder().read(Hooks.LOGITS).build()).build();
        return new AnalysisResult("greeting from ${analysisId}: token " + params.token() + " after " + logits.length + " prompts",
                List.of(figure), List.of(), List.of());
    }
}
