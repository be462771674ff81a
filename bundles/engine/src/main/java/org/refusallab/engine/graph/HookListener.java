package org.refusallab.engine.graph;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.refusallab.api.model.Intervention;

/**
 * Lives for one forward call: when a hook's identity op has run, applies that hook's interventions to its output
 * in place (so every consumer downstream sees the edit) and then copies the output into the cache if asked.
 */
public final class HookListener implements PlannedGraph.Watcher {

    private final Map<String, List<Intervention>> interventions = new HashMap<>();
    private final Set<String> cacheHooks;
    private final Map<String, INDArray> cache = new LinkedHashMap<>();

    public HookListener(List<Intervention> interventions, Set<String> cacheHooks) {
        for (Intervention iv : interventions) this.interventions.computeIfAbsent(iv.hook(), k -> new ArrayList<>()).add(iv);
        this.cacheHooks = cacheHooks;
    }

    @Override
    public boolean watches(String variable) {
        return interventions.containsKey(variable) || cacheHooks.contains(variable);
    }

    @Override
    public void onOutput(String name, INDArray output) {
        List<Intervention> edits = interventions.get(name);
        if (edits != null) InterventionApplier.applyAll(edits, output);
        // a copy: the forward's arrays are reused by the next forward
        if (cacheHooks.contains(name)) cache.put(name, output.dup());
    }

    /** Hooks that had interventions: used to check none was silently ignored. */
    public Set<String> interventionHooks() {
        return interventions.keySet();
    }

    public Map<String, INDArray> cache() {
        return cache;
    }
}
