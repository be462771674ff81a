package org.refusallab.api.sweep;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;
import org.refusallab.api.study.RefusalMetric;

/**
 * What a {@link Row} returns, declared as a value. Positions are the row's own (negative = from the end). Results
 * are read from {@link RowResult} by the read-out's index in the row.
 */
public sealed interface ReadOut extends Serializable {

    /** The refusal metric of the logits at a position (a double). */
    record Metric(RefusalMetric metric, int position) implements ReadOut { }

    /** The logits at a position ({@code float[vocab]}). */
    record Logits(int position) implements ReadOut { }

    /**
     * A hook's activation at positions (null = every real position): a tensor {@code [positions, ...]}, no batch axis.
     * For {@code attn.hook_pattern} and {@code attn.hook_attn_scores} the positions are the queries and the tensor is
     * {@code [queries, head, key]} over the row's real keys only (key 0 = the row's first token, whatever the
     * padding). Since 1.1.
     */
    record Activation(String hook, int[] positions) implements ReadOut {
        @Override
        public boolean equals(Object o) {
            return o instanceof Activation a && hook.equals(a.hook) && Arrays.equals(positions, a.positions);
        }

        @Override
        public int hashCode() {
            return Objects.hash(hook, Arrays.hashCode(positions));
        }
    }

    /** A hook's activation at positions dotted with each vector (as given): {@code double[positions][vectors]}. */
    record Projection(String hook, int[] positions, float[][] vectors) implements ReadOut {
        @Override
        public boolean equals(Object o) {
            return o instanceof Projection p && hook.equals(p.hook) && Arrays.equals(positions, p.positions) && Arrays.deepEquals(vectors, p.vectors);
        }

        @Override
        public int hashCode() {
            return Objects.hash(hook, Arrays.hashCode(positions), Arrays.deepHashCode(vectors));
        }
    }

    /** Greedy decoding with the row's interventions at every step: the new token ids ({@code int[]}). */
    record Generation(int maxNewTokens) implements ReadOut {
        public Generation {
            if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
        }
    }

    static ReadOut metric(RefusalMetric metric) {
        return new Metric(metric, -1);
    }

    static ReadOut metric(RefusalMetric metric, int position) {
        return new Metric(metric, position);
    }

    static ReadOut logits() {
        return new Logits(-1);
    }

    static ReadOut logits(int position) {
        return new Logits(position);
    }

    static ReadOut activation(String hook, int... positions) {
        return new Activation(hook, positions.length == 0 ? null : positions.clone());
    }

    /** Every real position of the hook. */
    static ReadOut activationAll(String hook) {
        return new Activation(hook, null);
    }

    static ReadOut projection(String hook, int[] positions, float[]... vectors) {
        return new Projection(hook, positions == null ? null : positions.clone(), vectors.clone());
    }

    static ReadOut generation(int maxNewTokens) {
        return new Generation(maxNewTokens);
    }
}
