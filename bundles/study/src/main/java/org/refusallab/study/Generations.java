package org.refusallab.study;

import java.util.ArrayList;
import java.util.List;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.Intervention;

/** Greedy completions of baseline and intervened (direction-ablated) models, with their refusal flags. */
public final class Generations {

    private Generations() { }

    /** One instruction: which set it comes from, harmful or not, and both completions. */
    public record Completion(String set, boolean harmful, String instruction, String baseline, boolean baselineRefusal,
                             String intervened, boolean intervenedRefusal) { }

    /** One prompt of a generation run. */
    public record Prompt(String set, boolean harmful, String instruction) { }

    public static List<Completion> run(HookedModel model, List<Prompt> prompts, RefusalDirection direction,
                                       int maxNewTokens, int maxBatch, RefusalScore score, Runnable cancelCheck) {
        List<int[]> tokens = prompts.stream().map(p -> model.tokenizer().encodeChat(p.instruction())).toList();
        List<Intervention> ablation = Interventions.directionalAblation(model.info().nLayers(), direction.values(), null);
        List<String> base = generate(model, tokens, List.of(), maxNewTokens, maxBatch, cancelCheck);
        List<String> intervened = generate(model, tokens, ablation, maxNewTokens, maxBatch, cancelCheck);
        List<Completion> out = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            Prompt p = prompts.get(i);
            out.add(new Completion(p.set(), p.harmful(), p.instruction(), base.get(i), score.isRefusal(base.get(i)),
                    intervened.get(i), score.isRefusal(intervened.get(i))));
        }
        return out;
    }

    static List<String> generate(HookedModel model, List<int[]> tokens, List<Intervention> iv, int maxNewTokens, int maxBatch, Runnable cancelCheck) {
        List<String> out = new ArrayList<>();
        for (int start = 0; start < tokens.size(); start += maxBatch) {
            if (cancelCheck != null) cancelCheck.run();
            List<int[]> chunk = new ArrayList<>(tokens.subList(start, Math.min(tokens.size(), start + maxBatch)));
            for (int[] ids : model.generate(new GenerationRequest(chunk, maxNewTokens, iv))) {
                out.add(model.tokenizer().decode(ids, true));
            }
        }
        return out;
    }
}
