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
        // baseline and intervened copies decode together: every prompt twice, the ablation on the second copy's rows only
        List<int[]> both = new ArrayList<>(tokens);
        both.addAll(tokens);
        List<String> all = generate(model, both, tokens.size(), direction, maxNewTokens, maxBatch, cancelCheck);
        List<String> base = all.subList(0, tokens.size());
        List<String> intervened = all.subList(tokens.size(), all.size());
        List<Completion> out = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            Prompt p = prompts.get(i);
            out.add(new Completion(p.set(), p.harmful(), p.instruction(), base.get(i), score.isRefusal(base.get(i)),
                    intervened.get(i), score.isRefusal(intervened.get(i))));
        }
        return out;
    }

    /** Rows from {@code firstAblated} on are decoded with the direction ablated. */
    static List<String> generate(HookedModel model, List<int[]> tokens, int firstAblated, RefusalDirection direction, int maxNewTokens,
                                 int maxBatch, Runnable cancelCheck) {
        List<String> out = new ArrayList<>();
        for (int start = 0; start < tokens.size(); start += maxBatch) {
            if (cancelCheck != null) cancelCheck.run();
            final int from = start, end = Math.min(tokens.size(), start + maxBatch);
            List<int[]> chunk = new ArrayList<>(tokens.subList(start, end));
            int[] ablated = java.util.stream.IntStream.range(Math.max(start, firstAblated), end).map(i -> i - from).toArray();
            List<Intervention> iv = ablated.length == 0 ? List.of()
                    : Interventions.directionalAblation(model.info().nLayers(), direction.values(), ablated);
            for (int[] ids : model.generate(new GenerationRequest(chunk, maxNewTokens, iv))) {
                out.add(model.tokenizer().decode(ids, true));
            }
        }
        return out;
    }
}
