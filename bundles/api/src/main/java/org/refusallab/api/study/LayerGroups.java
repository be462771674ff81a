package org.refusallab.api.study;

import java.util.ArrayList;
import java.util.List;

/** Layer ranges of the seed's block-group patching, and the seed's Gemma-2b layer numbers scaled to other depths. */
public final class LayerGroups {

    /** The seed's model (gemma-2b-it) has 18 layers; its layer numbers are scaled by nLayers / 18 elsewhere. */
    public static final int SEED_LAYERS = 18;

    private LayerGroups() { }

    /** A half-open layer range [from, to) with a label such as "L0-L6". */
    public record Group(String label, int from, int to) {
        public boolean contains(int layer) {
            return layer >= from && layer < to;
        }
    }

    /**
     * "thirds" (early / middle / late thirds, the seed's L0-L6, L6-L12, L12-L18 for 18 layers) or a list of
     * half-open ranges such as {@code 0-6,6-12,12-18}.
     */
    public static List<Group> parse(String spec, int nLayers) {
        List<Group> out = new ArrayList<>();
        if (spec == null || spec.isBlank() || spec.trim().equals("thirds")) {
            int a = Math.round(nLayers / 3f), b = Math.round(2 * nLayers / 3f);
            out.add(new Group("early L0-L" + a, 0, a));
            out.add(new Group("middle L" + a + "-L" + b, a, b));
            out.add(new Group("late L" + b + "-L" + nLayers, b, nLayers));
            return out;
        }
        for (String part : spec.split(",")) {
            String[] ends = part.trim().split("-");
            try {
                if (ends.length != 2) throw new NumberFormatException();
                int from = Integer.parseInt(ends[0].trim()), to = Integer.parseInt(ends[1].trim());
                if (from < 0 || to > nLayers || from >= to) {
                    throw new IllegalArgumentException("layer group '" + part.trim() + "' is not a range within 0-" + nLayers);
                }
                out.add(new Group("L" + from + "-L" + to, from, to));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("layer group '" + part.trim() + "' in '" + spec + "' is not FROM-TO (half-open)");
            }
        }
        return out;
    }

    /** A seed layer number (of 18) at the same relative depth of a model with nLayers layers. */
    public static int scaled(int seedLayer, int nLayers) {
        return Math.round(seedLayer * nLayers / (float) SEED_LAYERS);
    }
}
