package org.refusallab.api.model;

import java.util.List;

/**
 * Greedy decoding of a batch with the same interventions applied at every step. Interventions whose positions
 * are null act on every position, generated ones included (directional ablation needs that).
 */
public record GenerationRequest(List<int[]> prompts, int maxNewTokens, List<Intervention> interventions) {
    public GenerationRequest {
        if (prompts == null || prompts.isEmpty()) throw new IllegalArgumentException("generation without prompts");
        if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
        interventions = interventions == null ? List.of() : List.copyOf(interventions);
    }
}
