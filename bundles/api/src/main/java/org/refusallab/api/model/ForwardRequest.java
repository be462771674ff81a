package org.refusallab.api.model;

import java.util.List;
import java.util.Set;

/**
 * One hooked forward call: a batch of token sequences (any lengths: the engine pads on the left),
 * the hook names to cache (exact names or globs such as {@code blocks.*.hook_resid_pre}), and the interventions.
 * Caches hold the values after this call's interventions at that hook.
 */
public record ForwardRequest(List<int[]> tokens, Set<String> cacheHooks, List<Intervention> interventions) {

    public ForwardRequest {
        if (tokens == null || tokens.isEmpty()) throw new IllegalArgumentException("forward request without tokens");
        cacheHooks = cacheHooks == null ? Set.of() : Set.copyOf(cacheHooks);
        interventions = interventions == null ? List.of() : List.copyOf(interventions);
    }

    public static ForwardRequest of(List<int[]> tokens) {
        return new ForwardRequest(tokens, Set.of(), List.of());
    }

    public ForwardRequest caching(Set<String> hooks) {
        return new ForwardRequest(tokens, hooks, interventions);
    }

    public ForwardRequest with(List<Intervention> more) {
        var all = new java.util.ArrayList<>(interventions);
        all.addAll(more);
        return new ForwardRequest(tokens, cacheHooks, all);
    }
}
