package org.refusallab.study;

import java.util.ArrayList;
import java.util.List;
import org.refusallab.api.model.Intervention;

/** The study's two direction interventions, as lists for one forward / generation call. */
public final class Interventions {

    private Interventions() { }

    /**
     * Directional ablation (the seed's "intervened" model): project the unit direction out of
     * {@code hook_resid_pre}, {@code hook_attn_out} and {@code hook_mlp_out} of every layer, at every position
     * (generated ones included), for the given rows (null = all).
     */
    public static List<Intervention> directionalAblation(int nLayers, float[] direction, int[] rows) {
        List<Intervention> out = new ArrayList<>(3 * nLayers);
        float[] unit = Intervention.unit(direction);
        for (int l = 0; l < nLayers; l++) {
            for (String h : new String[] {"hook_resid_pre", "hook_attn_out", "hook_mlp_out"}) {
                out.add(Intervention.projectOut("blocks." + l + "." + h, unit, rows, null));
            }
        }
        return out;
    }

    /** Activation addition: {@code blocks.L.hook_resid_pre += scale * direction} at all positions of the rows. */
    public static Intervention activationAddition(int layer, float[] direction, float scale, int[] rows) {
        return Intervention.add("blocks." + layer + ".hook_resid_pre", direction, scale, rows, null);
    }

    public static String residPre(int layer) {
        return "blocks." + layer + ".hook_resid_pre";
    }

    public static String attnOut(int layer) {
        return "blocks." + layer + ".hook_attn_out";
    }

    public static String mlpOut(int layer) {
        return "blocks." + layer + ".hook_mlp_out";
    }

    public static String residPost(int layer) {
        return "blocks." + layer + ".hook_resid_post";
    }
}
