package org.refusallab.engine.graph;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;

/**
 * Applies one {@link Intervention} in place to a hook's activation. The work is done on 2-D views
 * [positions, trailing] per (row, head), so an edit at every position is one matrix operation.
 */
public final class InterventionApplier {

    private InterventionApplier() { }

    public static void apply(Intervention iv, INDArray act) {
        HookPoints.Layout layout = HookPoints.layout(iv.hook());
        long[] shape = act.shape();
        int batch = (int) shape[0];
        int[] rows = iv.rows() != null ? iv.rows() : range(batch);
        int nHeads = layout == HookPoints.Layout.POSITION ? 1 : (int) (layout == HookPoints.Layout.HEAD_QUERY ? shape[1] : shape[2]);
        int[] heads = layout == HookPoints.Layout.POSITION ? new int[] {-1} : (iv.heads() != null ? iv.heads() : range(nHeads));
        if (layout == HookPoints.Layout.POSITION && iv.heads() != null) {
            throw new IllegalArgumentException("intervention " + iv.describe() + ": " + iv.hook() + " has no head axis");
        }
        long nPos = layout == HookPoints.Layout.HEAD_QUERY ? shape[2] : shape[1];
        long trailing = shape[shape.length - 1];
        check(iv, rows, batch, "row");
        check(iv, heads, nHeads, "head");
        if (iv.positions() != null) check(iv, iv.positions(), (int) nPos, "position");
        INDArray dir = null;
        if (iv.direction() != null) {
            if (iv.direction().length != trailing) {
                throw new IllegalArgumentException("intervention " + iv.describe() + ": direction has " + iv.direction().length
                        + " values but " + iv.hook() + " has " + trailing);
            }
            dir = Nd4j.createFromArray(iv.direction()).reshape(trailing, 1); // [trailing, 1]
        }
        INDArray source = null;
        if (iv.kind() == Intervention.Kind.REPLACE) source = sourceArray(iv, shape);

        for (int i = 0; i < rows.length; i++) {
            for (int head : heads) {
                INDArray m = matrix(act, layout, rows[i], head); // [pos, trailing] view
                INDArray target = iv.positions() == null ? m : m.getRows(iv.positions()); // a copy when positions are chosen
                switch (iv.kind()) {
                    case ZERO -> target.assign(0);
                    case REPLACE -> {
                        int srcRow = iv.sourceRows() != null ? iv.sourceRows()[i] : rows[i];
                        if (srcRow < 0 || srcRow >= source.size(0)) {
                            throw new IllegalArgumentException("intervention " + iv.describe() + ": source row " + srcRow + " outside source " + iv.source());
                        }
                        INDArray src = matrix(source, layout, srcRow, head);
                        target.assign(iv.positions() == null ? src : src.getRows(iv.positions()));
                    }
                    case PROJECT_OUT -> target.subi(target.mmul(dir).mmul(dir.transpose()));
                    case CLAMP -> target.addi(target.mmul(dir).rsub(iv.value()).mmul(dir.transpose()));
                    case ADD -> target.addiRowVector(dir.reshape(trailing).mul(iv.value()));
                }
                if (iv.positions() != null) {
                    for (int j = 0; j < iv.positions().length; j++) m.putRow(iv.positions()[j], target.getRow(j));
                }
            }
        }
    }

    /** The [pos, trailing] matrix of one row (and head) as a view. */
    private static INDArray matrix(INDArray a, HookPoints.Layout layout, int row, int head) {
        List<INDArrayIndex> idx = new ArrayList<>();
        idx.add(NDArrayIndex.point(row));
        switch (layout) {
            case POSITION -> { idx.add(NDArrayIndex.all()); idx.add(NDArrayIndex.all()); }
            case POSITION_HEAD -> { idx.add(NDArrayIndex.all()); idx.add(NDArrayIndex.point(head)); idx.add(NDArrayIndex.all()); }
            case HEAD_QUERY -> { idx.add(NDArrayIndex.point(head)); idx.add(NDArrayIndex.all()); idx.add(NDArrayIndex.all()); }
        }
        return a.get(idx.toArray(new INDArrayIndex[0]));
    }

    private static INDArray sourceArray(Intervention iv, long[] actShape) {
        Tensor s = iv.source();
        long[] ss = s.shape();
        if (ss.length != actShape.length) {
            throw new IllegalArgumentException("intervention " + iv.describe() + ": source " + s + " does not match activation " + java.util.Arrays.toString(actShape));
        }
        for (int i = 1; i < ss.length; i++) {
            if (ss[i] != actShape[i]) {
                throw new IllegalArgumentException("intervention " + iv.describe() + ": source " + s + " does not match activation " + java.util.Arrays.toString(actShape));
            }
        }
        return Nd4j.create(s.data(), ss, 'c');
    }

    private static void check(Intervention iv, int[] idx, int size, String what) {
        for (int i : idx) {
            if (i < 0 || i >= size) throw new IllegalArgumentException("intervention " + iv.describe() + ": " + what + " " + i + " outside 0.." + (size - 1));
        }
    }

    static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }
}
