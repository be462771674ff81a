package org.refusallab.engine.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Few-row products against a large weight, planned as {@link ColumnSplitGemm}s: the same numbers as a plain
 * double-precision product written out here, for both weight layouts ({@code a @ w^T} with w [N, K], {@code a @ v}
 * with v [K, N]), a weight that is a view at an offset into a larger array, on the planning call and on replays with
 * new inputs, and only for the row counts that gain.
 */
class ColumnSplitGemmTest {

    static final int K = 320, N = 4096; // 5.2 MB weights: above the 4 MB operand rule
    static int threadsBefore;

    @BeforeAll
    static void twoBlasThreads() {
        threadsBefore = Nd4j.factory().blas().getMaxThreads();
        Nd4j.factory().blas().setMaxThreads(2);
    }

    @AfterAll
    static void restore() {
        Nd4j.factory().blas().setMaxThreads(threadsBefore);
    }

    static INDArray random(Random rnd, long rows, long cols) {
        float[] v = new float[(int) (rows * cols)];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        return Nd4j.create(v, new long[] {rows, cols}, 'c');
    }

    /** out[m][n] = sum_k tanh(x[m][k]) w(n, k), in double. */
    static double[][] reference(INDArray x, INDArray w, boolean transposed) {
        float[][] xs = x.toFloatMatrix(), ws = w.toFloatMatrix();
        int m = xs.length;
        double[][] out = new double[m][N];
        for (int i = 0; i < m; i++) {
            double[] a = new double[K];
            for (int k = 0; k < K; k++) a[k] = Math.tanh(xs[i][k]);
            for (int n = 0; n < N; n++) {
                double s = 0;
                for (int k = 0; k < K; k++) s += a[k] * (transposed ? ws[n][k] : ws[k][n]);
                out[i][n] = s;
            }
        }
        return out;
    }

    static void assertClose(double[][] expected, INDArray got, String what) {
        float[][] g = got.toFloatMatrix();
        double scale = 0, err = 0;
        for (int i = 0; i < expected.length; i++) {
            for (int n = 0; n < N; n++) {
                scale = Math.max(scale, Math.abs(expected[i][n]));
                err = Math.max(err, Math.abs(expected[i][n] - g[i][n]));
            }
        }
        assertTrue(err <= 1e-5 * scale, what + ": max |error| " + err + " of max |value| " + scale);
    }

    @Test
    void plannedProductsMatchAPlainProductForEveryRowCount() {
        Random rnd = new Random(11);
        INDArray wt = random(rnd, N, K);                                               // [N, K]: a @ w^T
        INDArray big = random(rnd, K + 3, N);
        INDArray v = big.get(NDArrayIndex.interval(3, K + 3), NDArrayIndex.all());    // [K, N] view at offset 3N
        assertEquals(3L * N, v.offset());
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, K);
        SDVariable a = sd.math().tanh(x);
        sd.mmul("yt", a, sd.constant("wt", wt), false, true, false);
        sd.mmul("yv", a, sd.constant("v", v), false, false, false);
        PlannedGraph graph = new PlannedGraph(sd, "yt", "yv");
        for (int m : new int[] {1, 2, 6, 17, 32, 33}) {
            PlannedGraph.Plan plan = null;
            for (int call = 0; call < 3; call++) { // the planning call, then replays on new inputs
                INDArray in = random(rnd, m, K);
                Map<String, INDArray> out;
                if (plan == null) {
                    plan = graph.plan(Map.of("x", in), new PlannedGraph.Arena(), null);
                    out = plan.firstOutputs();
                    boolean gains = m >= ColumnSplitGemm.MIN_ROWS && m <= ColumnSplitGemm.MAX_ROWS;
                    assertEquals(gains && BlasThreads.available() ? 2 : 0, plan.columnSplitGemms(), "M = " + m + ": products split");
                } else {
                    out = plan.run(Map.of("x", in), null);
                }
                assertClose(reference(in, wt, true), out.get("yt"), "a @ w^T, M = " + m + ", call " + call);
                assertClose(reference(in, v, false), out.get("yv"), "a @ v (offset view), M = " + m + ", call " + call);
            }
            PlannedGraph.restoreBlasThreads();
        }
    }
}
