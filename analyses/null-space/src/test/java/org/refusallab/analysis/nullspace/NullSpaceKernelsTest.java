package org.refusallab.analysis.nullspace;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.QRDecomposition;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.Tensor;

/**
 * The fast kernels against the plain computations they replace: the blocked Gram matrix against the double loop, the
 * eigendecomposition-based spectrum against the SVD, the batched cosines against a direct double loop.
 */
class NullSpaceKernelsTest {

    private static float[] randomFlat(int d, int vocab, Random random) {
        float[] flat = new float[d * vocab];
        for (int i = 0; i < flat.length; i++) flat[i] = (float) random.nextGaussian();
        return flat;
    }

    /** The reference: every element's dot product over the vocabulary in double, one loop per element. */
    private static double[][] naiveGram(float[] flat, int d, int vocab) {
        double[][] g = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int t = 0; t < vocab; t++) s += (double) flat[i * vocab + t] * flat[j * vocab + t];
                g[i][j] = s;
            }
        }
        return g;
    }

    /**
     * Shapes that are not multiples of the block (64), the kernel's 4 or the vocabulary tile (512), and some that are:
     * the blocked Gram matrix equals the double loop to rounding, is exactly symmetric, and is the same on a rerun.
     */
    @Test
    void blockedGramEqualsTheNaiveDoubleLoop() {
        Random random = new Random(21);
        int[][] shapes = {{37, 1001}, {130, 700}, {66, 513}, {64, 512}, {3, 5}, {1, 1}, {5, 2000}};
        for (int[] shape : shapes) {
            int d = shape[0], vocab = shape[1];
            float[] flat = randomFlat(d, vocab, random);
            double[][] want = naiveGram(flat, d, vocab), got = NullSpace.gram(flat, d, vocab);
            String at = d + " x " + vocab;
            assertEquals(d, got.length, at);
            for (int i = 0; i < d; i++) {
                assertEquals(d, got[i].length, at);
                for (int j = 0; j < d; j++) {
                    // products of floats are exact in double: only the summation order differs (tiles, fused adds)
                    double scale = Math.sqrt(want[i][i] * want[j][j]);
                    assertEquals(want[i][j], got[i][j], 1e-13 * scale, at + " element " + i + "," + j);
                    assertEquals(got[j][i], got[i][j], 0.0, at + " symmetric at " + i + "," + j);
                }
            }
            double[][] again = NullSpace.gram(flat, d, vocab);
            for (int i = 0; i < d; i++) assertArrayEquals(got[i], again[i], 0.0, at + " deterministic, row " + i);
        }
    }

    /** The spectrum as it was computed before: commons-math3's SVD of the Gram matrix. */
    private static NullSpace.Spectrum svdSpectrum(double[][] gram) {
        int d = gram.length;
        SingularValueDecomposition svd = new SingularValueDecomposition(new Array2DRowRealMatrix(gram));
        double[] ev = svd.getSingularValues();
        double[] sigma = new double[d];
        for (int i = 0; i < d; i++) sigma[i] = Math.sqrt(Math.max(0, ev[i]));
        double[][] u = svd.getU().getData(), vectors = new double[d][d];
        for (int i = 0; i < d; i++) for (int r = 0; r < d; r++) vectors[i][r] = u[r][i];
        return new NullSpace.Spectrum(sigma, vectors);
    }

    /**
     * On a random W with well-separated singular values (random orthonormal singular vectors, sigma_i = 1 + i, rounded
     * to float like a stored W_U): the eigendecomposition-based spectrum has
     * the SVD's singular values (1e-9 relative, descending) and singular vectors up to sign, and the same share curves.
     */
    @Test
    void eigenSpectrumEqualsTheSvdOne() {
        Random random = new Random(8);
        int d = 40, vocab = 300;
        double[][] u = orthonormalColumns(d, d, random), v = orthonormalColumns(vocab, d, random);
        float[] flat = new float[d * vocab];
        for (int i = 0; i < d; i++) {
            for (int t = 0; t < vocab; t++) {
                double x = 0;
                for (int c = 0; c < d; c++) x += u[i][c] * (1 + c) * v[t][c];
                flat[i * vocab + t] = (float) x;
            }
        }
        double[][] gram = NullSpace.gram(flat, d, vocab);
        NullSpace.Spectrum want = svdSpectrum(gram), got = NullSpace.spectrum(gram);
        double[] s = want.singular();
        double minGap = Double.MAX_VALUE;
        for (int i = 1; i < d; i++) minGap = Math.min(minGap, (s[i - 1] - s[i]) / s[0]);
        assertTrue(minGap > 1e-3, "the test needs well-separated singular values, min gap " + minGap);
        for (int i = 0; i < d; i++) {
            assertEquals(s[i], got.singular()[i], 1e-9 * s[i], "sigma " + i);
            if (i > 0) assertTrue(got.singular()[i] <= got.singular()[i - 1], "descending at " + i);
            double dot = NullSpace.dot(want.vectors()[i], got.vectors()[i]);
            assertEquals(1.0, Math.abs(dot), 1e-9, "vector " + i + " up to sign");
            assertEquals(1.0, NullSpace.dot(got.vectors()[i], got.vectors()[i]), 1e-12, "unit vector " + i);
        }
        double[] unit = NullSpace.randomUnits(1, d, 4)[0];
        double[] curveWant = NullSpace.shareCurve(want, unit), curveGot = NullSpace.shareCurve(got, unit);
        for (int k = 0; k < d; k++) assertEquals(curveWant[k], curveGot[k], 1e-9, "share curve at k = " + (k + 1));
    }

    private static double[][] orthonormalColumns(int rows, int cols, Random random) {
        double[][] a = new double[rows][cols];
        for (double[] row : a) for (int j = 0; j < cols; j++) row[j] = random.nextGaussian();
        double[][] q = new QRDecomposition(new Array2DRowRealMatrix(a)).getQ().getData(); // rows x rows
        double[][] out = new double[rows][cols];
        for (int r = 0; r < rows; r++) System.arraycopy(q[r], 0, out[r], 0, cols);
        return out;
    }

    /** Fewer tokens than d_model and centred: exact zero singular values come out as 0 (clamped), not NaN, at the end. */
    @Test
    void aRankDeficientGramGivesZerosAtTheEnd() {
        Random random = new Random(3);
        int d = 12, vocab = 5;
        float[] flat = randomFlat(d, vocab, random);
        var view = NullSpace.View.of(new Tensor(new long[] {d, vocab}, flat), new float[d], NullSpace.Reading.TL_PROCESSED);
        NullSpace.Spectrum got = NullSpace.spectrum(view.gram(NullSpace.gram(flat, d, vocab)));
        NullSpace.Spectrum want = svdSpectrum(view.gram(NullSpace.gram(flat, d, vocab)));
        for (int i = 0; i < d; i++) {
            assertFalse(Double.isNaN(got.singular()[i]), "sigma " + i);
            assertEquals(want.singular()[i], got.singular()[i], 1e-6 * want.singular()[0], "sigma " + i);
        }
        for (int i = vocab - 1; i < d; i++) assertTrue(got.singular()[i] < 1e-6 * got.singular()[0], "rank vocab - 1 = " + (vocab - 1) + ", sigma " + i);
        // the lower triangle is not read: a last-bit asymmetry (as a derived Gram matrix can have) changes nothing
        double[][] gram = view.gram(NullSpace.gram(flat, d, vocab));
        gram[d - 1][0] = Math.nextUp(gram[d - 1][0]);
        assertArrayEquals(got.singular(), NullSpace.spectrum(gram).singular(), 0.0);
    }

    /**
     * The batched cosines (d not a multiple of 4, vocab across several tiles) equal a direct double loop per vector on
     * the TransformerLens view, and measureBatch (vectors in passes of COS_BATCH) gives what one vector at a time gives.
     */
    @Test
    void batchedCosinesEqualADirectLoop() {
        Random random = new Random(17);
        int d = 37, vocab = 2 * NullSpace.COS_TILE + 77;
        float[] flat = randomFlat(d, vocab, random), weight = new float[d];
        for (int i = 0; i < d; i++) weight[i] = (float) random.nextGaussian() * 0.3f;
        Tensor wu = new Tensor(new long[] {d, vocab}, flat);
        for (NullSpace.Reading reading : NullSpace.Reading.values()) {
            var view = NullSpace.View.of(wu, weight, reading);
            double[][] units = NullSpace.randomUnits(6, d, 5);
            double[][] got = view.cosines(units);
            for (int v = 0; v < units.length; v++) {
                for (int t = 0; t < vocab; t++) {
                    double dot = 0, nn = 0;
                    for (int i = 0; i < d; i++) {
                        double x = ((double) flat[i * vocab + t] - view.mean()[i]) * (reading == NullSpace.Reading.TL_PROCESSED ? 1.0 + weight[i] : 1.0);
                        dot += x * units[v][i];
                        nn += x * x;
                    }
                    assertEquals(dot / Math.sqrt(nn), got[v][t], 1e-12, reading + " vector " + v + " token " + t);
                }
            }
            double[] unit = units[0];
            double[][] shares = NullSpace.randomUnits(100, d, 6), cos = NullSpace.randomUnits(2 * NullSpace.COS_BATCH + 3, d, 7);
            var spectrum = NullSpace.spectrum(view.gram(NullSpace.gram(flat, d, vocab)));
            var batched = NullSpace.measureBatch(reading, spectrum, view::cosines, unit, 3, shares, cos);
            var single = NullSpace.measure(reading, spectrum, view::cosines, unit, 3, shares, cos);
            assertArrayEquals(single.cosines(), batched.cosines(), 0.0);
            assertEquals(single.maxToken(), batched.maxToken());
            assertEquals(single.randomMaxCos95(), batched.randomMaxCos95(), 0.0);
            assertEquals(single.maxCosPercentile(), batched.maxCosPercentile(), 0.0);
            assertArrayEquals(single.randomShares(), batched.randomShares(), 0.0);
            assertEquals(single.sharePercentile(), batched.sharePercentile(), 0.0);
        }
    }
}
