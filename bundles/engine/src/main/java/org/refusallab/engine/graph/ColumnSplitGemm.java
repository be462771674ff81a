package org.refusallab.engine.graph;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code out = a @ w} or {@code a @ w^T} for an {@code a} of few rows and a large constant {@code w} (a weight), run
 * as one single-threaded {@code cblas_sgemm} per BLAS thread, each on its own block of the output's columns, in
 * parallel.
 *
 * <p>Why: OpenBLAS 0.3.21 shares a GEMM with few rows between its threads so that each thread streams the whole
 * weight. Decoding at batch 6 is such products, bound by memory traffic (measured with {@code cblas_sgemm}, M = 6,
 * [2048 x 16384], idle machine, 2 threads: 7.7 GB/s of weight through OpenBLAS's threads, 10.8 GB/s as two
 * single-threaded products over halves of the columns; M = 12: 5.0 and 10.9; M = 24: 5.5 and 8.1; M = 48: no gain;
 * M = 1: none either, OpenBLAS's own split of a one-row product already divides the columns).
 *
 * <p>Column blocks of {@code w} are strided views for {@code a @ w} ({@code ldb} = N) and contiguous rows for
 * {@code a @ w^T}; BLAS takes both as they are, so nothing is copied. Every output element is the same dot product
 * over the same K as in one call; only which thread computes it changes.
 */
final class ColumnSplitGemm {

    /** Row counts (M) that gain: see the class comment's measurements. */
    static final int MIN_ROWS = 2, MAX_ROWS = 32;

    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
    private static ExecutorService workers; // guarded by the class
    private static int workerCount;

    private final int m, n, k, parts;
    private final boolean transposeW;
    private final FloatPointer aAt;               // every part reads all of a
    private final FloatPointer[] wAt, outAt;      // per part
    private final int[] columns;                  // per part

    /** Splits over {@code parts} threads (the caller's and parts - 1 workers); see {@link #applies}. */
    ColumnSplitGemm(INDArray a, INDArray w, boolean transposeW, INDArray out, int parts) {
        this.m = (int) a.size(0);
        this.k = (int) a.size(1);
        this.n = (int) out.size(1);
        this.transposeW = transposeW;
        this.parts = parts;
        aAt = floatsAt(a, 0);
        wAt = new FloatPointer[parts];
        outAt = new FloatPointer[parts];
        columns = new int[parts];
        // blocks of whole 16-column groups (the kernels' width), the last one takes the rest
        int per = (n / parts + 15) / 16 * 16;
        for (int p = 0, from = 0; p < parts; p++) {
            int to = p == parts - 1 ? n : Math.min(n, from + per);
            columns[p] = to - from;
            wAt[p] = floatsAt(w, transposeW ? (long) from * k : from);
            outAt[p] = floatsAt(out, from);
            from = to;
        }
    }

    /**
     * Whether the product {@code a @ w} ({@code a @ w^T} if {@code transposeW}) into {@code out} is one this class runs
     * faster: float32, rank 2, all plain row-major, {@code a}'s rows in [{@link #MIN_ROWS}, {@link #MAX_ROWS}],
     * enough columns for every thread, {@code w} at least {@code minWeightBytes}.
     */
    static boolean applies(INDArray a, INDArray w, INDArray out, int threads, long minWeightBytes) {
        if (threads < 2) return false;
        for (INDArray x : new INDArray[] {a, w, out}) {
            if (x.dataType() != DataType.FLOAT || x.rank() != 2 || x.ordering() != 'c' || x.stride(1) != 1 || x.stride(0) != x.size(1)) return false;
        }
        return a.size(0) >= MIN_ROWS && a.size(0) <= MAX_ROWS && out.size(1) >= 64L * threads
                && w.length() * Float.BYTES >= minWeightBytes;
    }

    /** Runs the product; OpenBLAS must be on one thread (the caller sets it: the count is global). */
    void run() {
        ExecutorService pool = workers(parts - 1);
        @SuppressWarnings("unchecked")
        Future<?>[] pending = new Future<?>[parts - 1];
        for (int p = 1; p < parts; p++) {
            int part = p;
            pending[p - 1] = pool.submit(() -> gemm(part));
        }
        gemm(0);
        try {
            for (Future<?> f : pending) f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a matrix product's other columns", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a matrix product's column block failed", e.getCause());
        }
    }

    private void gemm(int p) {
        if (columns[p] == 0) return;
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, NO_TRANS, transposeW ? TRANS : NO_TRANS, m, columns[p], k, 1f,
                aAt, k, wAt[p], transposeW ? k : n, 0f, outAt[p], n);
    }

    /** A pointer to element {@code offset} of {@code x}'s row-major data (views: their own offset added). */
    private static FloatPointer floatsAt(INDArray x, long offset) {
        FloatPointer base = new FloatPointer(x.data().addressPointer());
        return base.position(base.position() + x.offset() + offset);
    }

    private static synchronized ExecutorService workers(int count) {
        if (workers == null || workerCount < count) {
            if (workers != null) workers.shutdown();
            int[] made = {0};
            workers = Executors.newFixedThreadPool(count, r -> {
                Thread t = new Thread(r, "refusal-lab-gemm-" + ++made[0]);
                t.setDaemon(true); // never keeps the JVM up
                return t;
            });
            workerCount = count;
        }
        return workers;
    }
}
