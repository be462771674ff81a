package org.refusallab.api.sweep;

import java.io.Serializable;
import java.util.List;
import org.refusallab.api.model.Tensor;

/** The values of one row's read-outs, in the row's order (a plain serialisable value). */
public record RowResult(List<Object> values) implements Serializable {

    public RowResult {
        values = List.copyOf(values);
    }

    public double metric(int readOut) {
        return (Double) values.get(readOut);
    }

    /** The first read-out as a metric. */
    public double metric() {
        return metric(0);
    }

    public float[] logits(int readOut) {
        return ((float[]) values.get(readOut)).clone();
    }

    public Tensor activation(int readOut) {
        return (Tensor) values.get(readOut);
    }

    public double[][] projection(int readOut) {
        return (double[][]) values.get(readOut);
    }

    public int[] generated(int readOut) {
        return ((int[]) values.get(readOut)).clone();
    }
}
