package org.refusallab.testkit;

import java.util.Arrays;
import org.refusallab.api.model.Tensor;

/**
 * A dense double-precision tensor in row-major order, batch first like {@link Tensor}: the reference forward's
 * activations. Kept separate from the API's float {@link Tensor} so that the oracle never rounds to float32 on the way.
 */
public record DTensor(int[] shape, double[] data) {

    public DTensor {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
        }
    }

    public static DTensor zeros(int... shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return new DTensor(shape.clone(), new double[Math.toIntExact(n)]);
    }

    /** The API tensor's values widened to double (exact). */
    public static DTensor of(Tensor t) {
        int[] shape = new int[t.rank()];
        for (int i = 0; i < shape.length; i++) shape[i] = t.dim(i);
        double[] data = new double[t.data().length];
        for (int i = 0; i < data.length; i++) data[i] = t.data()[i];
        return new DTensor(shape, data);
    }

    /** Rounded to float32, for handing to code that takes the API's tensors (a REPLACE source, say). */
    public Tensor toTensor() {
        long[] s = new long[shape.length];
        for (int i = 0; i < s.length; i++) s[i] = shape[i];
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
        return new Tensor(s, f);
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int axis) {
        return shape[axis < 0 ? shape.length + axis : axis];
    }

    /** Flat offset of an index (all axes given), bounds-checked. */
    public int offset(int... index) {
        if (index.length != shape.length) throw new IllegalArgumentException("index rank " + index.length + " != tensor rank " + shape.length);
        int off = 0;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of shape " + Arrays.toString(shape));
            }
            off = off * shape[i] + index[i];
        }
        return off;
    }

    public double get(int... index) {
        return data[offset(index)];
    }

    /** The trailing vector at a leading index (a copy), e.g. {@code row(b, pos)} of {@code [batch, pos, d_model]}. */
    public double[] row(int... leading) {
        int len = 1;
        for (int i = leading.length; i < shape.length; i++) len *= shape[i];
        int start = offset(Arrays.copyOf(leading, shape.length));
        return Arrays.copyOfRange(data, start, start + len);
    }

    public DTensor copy() {
        return new DTensor(shape.clone(), data.clone());
    }

    public double maxAbs() {
        double m = 0;
        for (double v : data) m = Math.max(m, Math.abs(v));
        return m;
    }

    /** Largest |this - other| over all elements; the shapes must match. */
    public double maxAbsDiff(DTensor other) {
        requireSameShape(other.shape);
        double m = 0;
        for (int i = 0; i < data.length; i++) m = Math.max(m, Math.abs(data[i] - other.data[i]));
        return m;
    }

    /** Largest |this - other| against an API float tensor of the same shape. */
    public double maxAbsDiff(Tensor other) {
        return maxAbsDiff(of(other));
    }

    void requireSameShape(int[] otherShape) {
        if (!Arrays.equals(shape, otherShape)) {
            throw new IllegalArgumentException("shape " + Arrays.toString(otherShape) + " does not match " + Arrays.toString(shape));
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DTensor t && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "DTensor" + Arrays.toString(shape);
    }
}
