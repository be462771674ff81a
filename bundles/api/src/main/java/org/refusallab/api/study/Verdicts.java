package org.refusallab.api.study;

import org.refusallab.api.result.Finding;

/** Small helpers for findings. */
public final class Verdicts {

    private Verdicts() { }

    public static Finding.Verdict of(boolean agrees, boolean partly) {
        return agrees ? Finding.Verdict.AGREES : partly ? Finding.Verdict.PARTLY : Finding.Verdict.DISAGREES;
    }

    /** Scaled-layer note for claims that name gemma-2b-it's layers. */
    public static String layerNote(int nLayers) {
        return nLayers == LayerGroups.SEED_LAYERS ? "" : " (the seed's layer numbers are for 18 layers; here scaled to " + nLayers + ")";
    }
}
