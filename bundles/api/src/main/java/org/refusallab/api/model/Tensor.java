package org.refusallab.api.model;

import java.util.Arrays;

/**
 * A dense float32 tensor in row-major order, as handed between the engine and analyses.
 * Shapes follow TransformerLens, batch first: {@code [batch, pos, d_model]}, {@code [batch, head, query, key]}, ...
 */
public record Tensor(long[] shape, float[] data) implements java.io.Serializable {

    public Tensor {
        long n = 1;
        for (long d : shape) n *= d;
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
        }
    }

    public static Tensor zeros(long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return new Tensor(shape.clone(), new float[Math.toIntExact(n)]);
    }

    public static Tensor vector(float[] values) {
        return new Tensor(new long[] {values.length}, values);
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int axis) {
        return (int) shape[axis < 0 ? shape.length + axis : axis];
    }

    /** Flat offset of an index (all axes given). */
    public int offset(int... index) {
        if (index.length != shape.length) throw new IllegalArgumentException("index rank " + index.length + " != tensor rank " + shape.length);
        int off = 0;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of shape " + Arrays.toString(shape));
            }
            off = off * (int) shape[i] + index[i];
        }
        return off;
    }

    public float get(int... index) {
        return data[offset(index)];
    }

    /**
     * The trailing vector at a leading index, e.g. {@code row(b, pos)} of a {@code [batch, pos, d_model]} tensor
     * gives the residual vector at that position (a copy).
     */
    public float[] row(int... leading) {
        int len = 1;
        for (int i = leading.length; i < shape.length; i++) len *= (int) shape[i];
        int[] full = Arrays.copyOf(leading, shape.length);
        int start = offset(full);
        return Arrays.copyOfRange(data, start, start + len);
    }

    /** The sub-tensor at a leading index (a copy), e.g. {@code slice(b)} of {@code [batch, pos, d]} is {@code [pos, d]}. */
    public Tensor slice(int... leading) {
        long[] rest = Arrays.copyOfRange(shape, leading.length, shape.length);
        return new Tensor(rest, row(leading));
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }
}
