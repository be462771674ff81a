package org.refusallab.engine.graph;

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

    /**
     * Applies a hook's edits in list order. Consecutive PROJECT_OUT and ADD edits at every position of disjoint rows
     * (direction selection gives each row its own candidate direction: thousands of such edits in one batch) run as
     * one edit with a direction per row, instead of one pass over the whole activation each. Edits of the same row
     * are never merged, so the order in which a row sees its edits is the list's.
     */
    public static void applyAll(List<Intervention> edits, INDArray act) {
        int batch = (int) act.size(0);
        for (int i = 0; i < edits.size(); ) {
            if (!mergeable(edits.get(i))) {
                apply(edits.get(i), act);
                i++;
                continue;
            }
            boolean[] taken = new boolean[batch];
            int j = i;
            while (j < edits.size() && mergeable(edits.get(j)) && takeRows(edits.get(j), taken)) j++;
            if (j - i == 1) apply(edits.get(i), act);
            else applyPerRow(edits.subList(i, j), act);
            i = j;
        }
    }

    private static boolean mergeable(Intervention iv) {
        return (iv.kind() == Intervention.Kind.PROJECT_OUT || iv.kind() == Intervention.Kind.ADD)
                && iv.positions() == null && iv.heads() == null && HookPoints.layout(iv.hook()) == HookPoints.Layout.POSITION;
    }

    /** Marks the edit's rows as taken; false (nothing marked) if one is taken already or outside the batch. */
    private static boolean takeRows(Intervention iv, boolean[] taken) {
        int[] rows = iv.rows() != null ? iv.rows() : range(taken.length);
        for (int r : rows) {
            if (r < 0 || r >= taken.length || taken[r]) return false;
        }
        for (int r : rows) taken[r] = true;
        return true;
    }

    /** Edits of disjoint rows at every position, each row projecting out or adding its own vector: three array passes. */
    private static void applyPerRow(List<Intervention> edits, INDArray act) {
        long[] shape = act.shape();
        int batch = (int) shape[0], trailing = (int) shape[shape.length - 1];
        int perRow = (int) (act.length() / ((long) batch * trailing));
        float[] project = null, add = null; // [batch * perRow, trailing]: each row's vector repeated at its positions
        for (Intervention iv : edits) {
            checkDirection(iv, trailing);
            boolean isAdd = iv.kind() == Intervention.Kind.ADD;
            if (isAdd && add == null) add = new float[batch * perRow * trailing];
            if (!isAdd && project == null) project = new float[batch * perRow * trailing];
            float[] target = isAdd ? add : project;
            float[] v = iv.direction().clone();
            if (isAdd) for (int k = 0; k < v.length; k++) v[k] *= iv.value();
            for (int r : iv.rows() != null ? iv.rows() : range(batch)) {
                for (int p = 0; p < perRow; p++) System.arraycopy(v, 0, target, (r * perRow + p) * trailing, trailing);
            }
        }
        INDArray all = act.dup('c').reshape(-1, trailing);
        if (project != null) {
            INDArray dirs = Nd4j.create(project, new long[] {all.size(0), trailing}, 'c');
            INDArray along = all.mul(dirs).sum(true, 1); // [n, 1]: each position's component along its row's direction
            all.subi(dirs.muliColumnVector(along));
        }
        if (add != null) all.addi(Nd4j.create(add, new long[] {all.size(0), trailing}, 'c'));
        act.assign(all.reshape(shape));
    }

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
        if (layout != HookPoints.Layout.POSITION) check(iv, heads, nHeads, "head");
        if (iv.positions() != null) check(iv, iv.positions(), (int) nPos, "position");
        INDArray dir = null;
        if (iv.direction() != null) {
            checkDirection(iv, trailing);
            dir = Nd4j.createFromArray(iv.direction()).reshape(trailing, 1); // [trailing, 1]
        }
        INDArray source = null;
        if (iv.kind() == Intervention.Kind.REPLACE) source = sourceArray(iv, shape);

        if (iv.rows() == null && iv.positions() == null && iv.heads() == null
                && (source == null || (iv.sourceRows() == null && source.size(0) == batch))) {
            // Everywhere at once (directional ablation, whole-run patches): one matrix edit instead of one per row.
            INDArray all = act.dup('c').reshape(-1, trailing);
            edit(iv, all, source == null ? null : source.reshape(-1, trailing), dir);
            act.assign(all.reshape(shape));
            return;
        }
        if (iv.positions() == null && iv.heads() == null && source == null) {
            // Some rows at every position (the study merges equal edits of several rows into one): one matrix edit
            // weighted by a 0/1 row mask, instead of one get/edit/put per row (80% of a toy model's decoding time).
            INDArray all = act.dup('c').reshape(-1, trailing);
            long perRow = all.size(0) / batch; // every layout has the batch axis first
            float[] selected = new float[(int) all.size(0)];
            for (int r : rows) java.util.Arrays.fill(selected, (int) (r * perRow), (int) ((r + 1) * perRow), 1f);
            editSelected(iv, all, Nd4j.createFromArray(selected).reshape(-1, 1), dir);
            act.assign(all.reshape(shape));
            return;
        }
        for (int i = 0; i < rows.length; i++) {
            int srcRow = iv.sourceRows() != null ? iv.sourceRows()[i] : rows[i];
            if (source != null && (srcRow < 0 || srcRow >= source.size(0))) {
                throw new IllegalArgumentException("intervention " + iv.describe() + ": source row " + srcRow + " outside source " + iv.source());
            }
            for (int head : heads) {
                if (iv.positions() == null) {
                    editAt(iv, act, source, index(layout, rows[i], head, NDArrayIndex.all()), index(layout, srcRow, head, NDArrayIndex.all()), dir);
                } else {
                    // one block per run of consecutive positions (a patch of a prompt's every position is one edit, not one per position)
                    int[] ps = iv.positions();
                    for (int a = 0; a < ps.length; ) {
                        int b = a + 1;
                        while (b < ps.length && ps[b] == ps[b - 1] + 1) b++;
                        INDArrayIndex at = NDArrayIndex.interval(ps[a], ps[b - 1] + 1);
                        editAt(iv, act, source, index(layout, rows[i], head, at), index(layout, srcRow, head, at), dir);
                        a = b;
                    }
                }
            }
        }
    }

    /**
     * Takes the [positions, trailing] block out, edits it, and puts it back. Going through get/put instead of editing
     * views in place: ND4J M2.1 fails on views of the strided (permuted) arrays that per-head hooks produce.
     */
    private static void editAt(Intervention iv, INDArray act, INDArray source, INDArrayIndex[] at, INDArrayIndex[] from, INDArray dir) {
        INDArray block = act.get(at).dup('c');
        long[] blockShape = block.shape();
        INDArray target = block.reshape(-1, blockShape[blockShape.length - 1]);
        INDArray src = source == null ? null : source.get(from).dup('c').reshape(target.shape());
        edit(iv, target, src, dir);
        act.put(at, target.reshape(blockShape));
    }

    /** Edits {@code target} [n, trailing] in place. */
    private static void edit(Intervention iv, INDArray target, INDArray src, INDArray dir) {
        switch (iv.kind()) {
            case ZERO -> target.assign(0);
            case REPLACE -> target.assign(src);
            case PROJECT_OUT -> target.subi(target.mmul(dir).mmul(dir.transpose()));
            case CLAMP -> target.addi(target.mmul(dir).rsub(iv.value()).mmul(dir.transpose()));
            case ADD -> target.addiRowVector(dir.reshape(dir.length()).mul(iv.value()));
        }
    }

    /** {@link #edit} of the rows of {@code target} [n, trailing] where {@code selected} [n, 1] is 1 (0 elsewhere: left as they are). */
    private static void editSelected(Intervention iv, INDArray target, INDArray selected, INDArray dir) {
        switch (iv.kind()) {
            case ZERO -> target.muliColumnVector(selected.rsub(1));
            case PROJECT_OUT -> target.subi(target.mmul(dir).muli(selected).mmul(dir.transpose()));
            case CLAMP -> target.addi(target.mmul(dir).rsub(iv.value()).muli(selected).mmul(dir.transpose()));
            case ADD -> target.addi(selected.mmul(dir.reshape(1, dir.length())).muli(iv.value()));
            case REPLACE -> throw new IllegalStateException("REPLACE edits rows one by one");
        }
    }

    /** Indices of one row (and head) at the given positions: [pos, trailing] after dropping the points. */
    private static INDArrayIndex[] index(HookPoints.Layout layout, int row, int head, INDArrayIndex positions) {
        return switch (layout) {
            case POSITION -> new INDArrayIndex[] {NDArrayIndex.point(row), positions, NDArrayIndex.all()};
            case POSITION_HEAD -> new INDArrayIndex[] {NDArrayIndex.point(row), positions, NDArrayIndex.point(head), NDArrayIndex.all()};
            case HEAD_QUERY -> new INDArrayIndex[] {NDArrayIndex.point(row), NDArrayIndex.point(head), positions, NDArrayIndex.all()};
        };
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

    private static void checkDirection(Intervention iv, long trailing) {
        if (iv.direction().length != trailing) {
            throw new IllegalArgumentException("intervention " + iv.describe() + ": direction has " + iv.direction().length
                    + " values but " + iv.hook() + " has " + trailing);
        }
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
