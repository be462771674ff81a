package org.refusallab.api.study;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.result.Provenance;

/**
 * The refusal direction: a difference of mean {@code blocks.L.hook_resid_pre} activations (harmful - harmless) at
 * one layer and one post-instruction position ({@code position} counted from the end, -1 = last token; 0 = unknown,
 * for a vector brought from elsewhere). {@code values} is the raw mean difference, used as is for activation
 * addition; {@link #unit()} is what directional ablation projects out. {@code source} says where it came from.
 */
public record RefusalDirection(int layer, int position, float[] values, String source) implements Serializable {

    public RefusalDirection {
        if (values == null || values.length == 0) throw new IllegalArgumentException("refusal direction without values");
        for (float v : values) if (!Float.isFinite(v)) throw new IllegalArgumentException("refusal direction has a non-finite value");
        values = values.clone();
    }

    @Override
    public float[] values() {
        return values.clone();
    }

    public float[] unit() {
        return Intervention.unit(values);
    }

    public double norm() {
        double s = 0;
        for (float v : values) s += (double) v * v;
        return Math.sqrt(s);
    }

    /** {@link Intervention#hash} of the values: names this exact vector in reports. */
    public String sha256() {
        return Intervention.hash(values);
    }

    /** How figures record it: layer, position, norm, hash, source. */
    public Provenance.Direction provenance() {
        return new Provenance.Direction("refusal direction", layer, position, norm(), sha256(), source);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RefusalDirection d && layer == d.layer && position == d.position && Arrays.equals(values, d.values)
                && Objects.equals(source, d.source);
    }

    @Override
    public int hashCode() {
        return Objects.hash(layer, position, Arrays.hashCode(values), source);
    }

    @Override
    public String toString() {
        return "refusal direction layer " + layer + " position " + position + " norm " + String.format(java.util.Locale.ROOT, "%.4f", norm())
                + " sha256:" + sha256() + " (" + source + ")";
    }
}
