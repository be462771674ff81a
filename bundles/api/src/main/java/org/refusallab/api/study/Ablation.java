package org.refusallab.api.study;

import java.util.ArrayList;
import java.util.List;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Intervention;

/** The study's two direction interventions, for every row of a forward, generation or sweep row. */
public final class Ablation {

    private Ablation() { }

    /**
     * Directional ablation (the seed's "intervened" model): the unit direction projected out of
     * {@code hook_resid_pre}, {@code hook_attn_out} and {@code hook_mlp_out} of every layer at every position
     * (generated ones included).
     */
    public static List<Intervention> directional(int nLayers, float[] direction) {
        List<Intervention> out = new ArrayList<>(3 * nLayers);
        float[] unit = Intervention.unit(direction);
        for (int l = 0; l < nLayers; l++) {
            out.add(Intervention.at(Hooks.residPre(l)).projectOut(unit));
            out.add(Intervention.at(Hooks.attnOut(l)).projectOut(unit));
            out.add(Intervention.at(Hooks.mlpOut(l)).projectOut(unit));
        }
        return out;
    }

    /** Activation addition: {@code blocks.L.hook_resid_pre += scale * direction} at every position. */
    public static Intervention addition(int layer, float[] direction, float scale) {
        return Intervention.at(Hooks.residPre(layer)).add(direction, scale);
    }
}
