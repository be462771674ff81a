package org.refusallab.engine.graph;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.refusallab.api.model.Intervention;

/**
 * Lives for one forward call: when a hook's identity op has run, applies that hook's interventions to its output
 * in place (so every consumer downstream sees the edit) and then copies the output into the cache if asked.
 */
public final class HookListener extends BaseListener {

    private final Map<String, List<Intervention>> interventions = new HashMap<>();
    private final Set<String> cacheHooks;
    private final Map<String, INDArray> cache = new LinkedHashMap<>();

    public HookListener(List<Intervention> interventions, Set<String> cacheHooks) {
        for (Intervention iv : interventions) this.interventions.computeIfAbsent(iv.hook(), k -> new java.util.ArrayList<>()).add(iv);
        this.cacheHooks = cacheHooks;
    }

    @Override
    public boolean isActive(Operation operation) {
        return true;
    }

    @Override
    public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext opContext, INDArray[] outputs) {
        List<String> names = op.getOutputsOfOp();
        if (names == null || names.size() != 1) return;
        String name = names.get(0);
        List<Intervention> edits = interventions.get(name);
        if (edits != null) {
            for (Intervention iv : edits) InterventionApplier.apply(iv, outputs[0]);
        }
        if (cacheHooks.contains(name)) cache.put(name, outputs[0].dup());
    }

    /** Hooks that had interventions: used to check none was silently ignored. */
    public Set<String> interventionHooks() {
        return interventions.keySet();
    }

    public Map<String, INDArray> cache() {
        return cache;
    }
}
