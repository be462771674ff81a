package org.refusallab.analysis.nullspace;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.QRDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.api.result.Finding.Verdict;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testkit.lab.ReferenceModel;
import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Lab;

@ExtendWith(RefusalLab.class)
class NullSpaceTest {

    /** TransformerLens's processing written out: W_U[i][t] * (1 + w[i]), minus its mean over t. */
    private static double[][] processed(ReferenceModel m, boolean tl) {
        var wu = m.unembedMatrix();
        float[] w = m.finalNormWeight();
        int d = wu.dim(0), vocab = wu.dim(1);
        double[][] out = new double[d][vocab];
        for (int i = 0; i < d; i++) {
            double mean = 0;
            for (int t = 0; t < vocab; t++) mean += (out[i][t] = wu.get(i, t) * (tl ? 1.0 + w[i] : 1.0)) / vocab;
            if (tl) for (int t = 0; t < vocab; t++) out[i][t] -= mean;
        }
        return out;
    }

    /**
     * Cosines, singular values and the bottom-k share curve against a direct SVD of W_U^T (vocab x d_model, not the
     * Gram matrix the analysis decomposes) and double-precision cosines, for both readings; the direction is the
     * double reference's seed direction.
     */
    @Test
    void everyNumberMatchesADirectDoubleComputation(Lab lab) throws Exception {
        ReferenceModel m = lab.model();
        int d = m.info().dModel();
        double[] r = Independent.unit(lab.independent().seedDirection(1, -1));
        var result = Independent.wellFormed(lab.run(new NullSpace(lab.studies()), Lab.studyParameters(1, -1, 8)));
        for (String reading : new String[] {"tl-processed", "raw"}) {
            double[][] w = processed(m, reading.equals("tl-processed"));
            int vocab = w[0].length;
            double[] got = Independent.figure(result, "unembedding-cosines-" + reading).series().get(0).values()[0];
            assertEquals(vocab, got.length);
            for (int t = 0; t < vocab; t++) {
                double dot = 0, nn = 0;
                for (int i = 0; i < d; i++) { dot += w[i][t] * r[i]; nn += w[i][t] * w[i][t]; }
                assertEquals(dot / Math.sqrt(nn), got[t], 1e-5, reading + " token " + t);
            }
            SingularValueDecomposition svd = new SingularValueDecomposition(new Array2DRowRealMatrix(w).transpose());
            double[] sigma = svd.getSingularValues();
            double[] logs = Independent.series(Independent.figure(result, "singular-values"), reading);
            for (int i = 0; i < d; i++) assertEquals(sigma[i], Math.pow(10, logs[i]), 1e-6 * sigma[0], reading + " sigma " + i);
            RealMatrix v = svd.getV(); // residual-space singular vectors, largest first
            double[] curve = Independent.series(Independent.figure(result, "bottom-share-curve"), "refusal direction (" + reading + ")");
            double acc = 0;
            for (int k = 1; k <= d; k++) {
                double c = Independent.dot(v.getColumn(d - k), r);
                acc += c * c;
                assertEquals(Math.sqrt(acc), curve[k - 1], 1e-6, reading + " k " + k);
            }
        }
        var summary = Independent.table(result, "null-space-summary");
        assertEquals("tl-processed", summary.rows().get(0).get(0));
        assertEquals("1", summary.rows().get(0).get(4)); // k = max(1, round(20 * 64 / 2048))
        assertEquals(5, result.findings().size());
        // not gemma-2b-it: the seed's absolute numbers are not applicable, and say so beside the measurement
        assertEquals(Verdict.NOT_APPLICABLE, result.findings().get(0).verdict());
        assertTrue(result.findings().get(0).note().contains("Not applicable") && result.findings().get(0).measured().contains("max |cos|"));
        assertEquals(Verdict.NOT_APPLICABLE, result.findings().get(4).verdict());
    }

    /** An orthonormal basis of R^d whose last vector is the given unit vector. */
    private static double[][] basisEndingWith(double[] unit, Random random) {
        int d = unit.length;
        double[][] a = new double[d][d];
        for (int i = 0; i < d; i++) {
            a[i][0] = unit[i];
            for (int j = 1; j < d; j++) a[i][j] = random.nextGaussian();
        }
        RealMatrix q = new QRDecomposition(new Array2DRowRealMatrix(a)).getQ();
        double[][] basis = new double[d][];
        for (int j = 0; j < d; j++) basis[(j + d - 1) % d] = q.getColumn(j); // column 0 (+-unit) goes last
        return basis;
    }

    /** Planted answer: W_U built with a chosen direction as its smallest singular vector; null-space must find it. */
    @Test
    void aDirectionPlantedInTheBottomSingularSpaceIsFound() {
        int d = 16, vocab = 60;
        Random random = new Random(5);
        double[] planted = NullSpace.unit(random.doubles(d).map(x -> x - 0.5).toArray());
        double[][] u = basisEndingWith(planted, random);
        double[][] v = new double[d][vocab];
        RealMatrix q = new QRDecomposition(new Array2DRowRealMatrix(randomMatrix(vocab, d, random))).getQ();
        for (int i = 0; i < d; i++) v[i] = q.getColumn(i);
        double[][] w = new double[d][vocab];
        for (int s = 0; s < d; s++) {
            double sigma = s == d - 1 ? 1e-3 : 10.0 - 0.5 * s; // a steep drop at the small end
            for (int i = 0; i < d; i++) for (int t = 0; t < vocab; t++) w[i][t] += sigma * u[s][i] * v[s][t];
        }
        double[][] randoms = NullSpace.randomUnits(1000, d, 3);
        var spectrum = NullSpace.spectrum(NullSpace.gram(w));
        var m = NullSpace.measure(NullSpace.Reading.RAW, spectrum, x -> new double[] {0}, planted, 1, randoms, new double[0][]);
        assertEquals(1e-3, m.spectrum().singular()[d - 1], 1e-9);
        assertEquals(1.0, m.share(), 1e-9);
        assertEquals(100.0, m.sharePercentile(), 1e-9);
        assertEquals(Verdict.DISAGREES, NullSpace.randomLikeVerdict(m.sharePercentile()));
        assertEquals(Verdict.AGREES, NullSpace.dropVerdict(m.minOverMedian()));
        // random vectors: mean norm share about sqrt(1/d)
        assertEquals(Math.sqrt(1.0 / d), m.shareMean(), 0.05);
        // the top singular vector instead: nothing in the bottom space, below the random distribution
        var top = NullSpace.measure(NullSpace.Reading.RAW, spectrum, x -> new double[] {0}, u[0], 1, randoms, new double[0][]);
        assertEquals(0.0, top.share(), 1e-9);
        // not in the null space at all: the claim "does not fall within the null space" holds (the finding's note says it is below random)
        assertEquals(Verdict.AGREES, NullSpace.randomLikeVerdict(top.sharePercentile()));
        assertEquals(1.0, top.curve()[d - 1], 1e-9);
    }

    /**
     * Planted answer for the cosines: a token whose unembedding is the direction has cos 1. The TL view centres rows
     * and folds (1 + w) in, and its Gram matrix derived from the raw one equals the Gram of the processed matrix.
     */
    @Test
    void aTokenPlantedAlongTheDirectionHasCosineOneAndTheViewsAreRight() {
        int d = 8, vocab = 30;
        Random random = new Random(9);
        double[][] w = randomMatrix(d, vocab, random);
        double[] dir = NullSpace.unit(random.doubles(d).map(x -> x - 0.5).toArray());
        for (int i = 0; i < d; i++) w[i][17] = 3 * dir[i];
        float[] flat = new float[d * vocab], weight = new float[d];
        for (int i = 0; i < d; i++) { weight[i] = 0.5f * i; for (int t = 0; t < vocab; t++) flat[i * vocab + t] = (float) w[i][t]; }
        var tensor = new org.refusallab.api.model.Tensor(new long[] {d, vocab}, flat);
        double[] cos = NullSpace.View.of(tensor, weight, NullSpace.Reading.RAW).cosines(dir);
        assertEquals(1.0, cos[17], 1e-6);
        assertEquals(1.0, NullSpace.maxAbs(cos), 1e-6);
        var tl = NullSpace.View.of(tensor, weight, NullSpace.Reading.TL_PROCESSED);
        double[][] processed = new double[d][vocab];
        for (int i = 0; i < d; i++) {
            double sum = 0;
            for (int t = 0; t < vocab; t++) sum += processed[i][t] = tl.get(i, t);
            assertEquals(0, sum, 1e-9);
            assertEquals(((double) flat[i * vocab + 3] - flat[i * vocab + 4]) * (1.0 + weight[i]), tl.get(i, 3) - tl.get(i, 4), 1e-9);
        }
        double[][] raw = NullSpace.gram(flat, d, vocab), derived = tl.gram(raw), direct = NullSpace.gram(processed);
        for (int i = 0; i < d; i++) assertArrayEquals(direct[i], derived[i], 1e-9);
    }

    @Test
    void defaultKScalesTheSeeds20Of2048AndBadValuesAreNamed(Lab lab) {
        assertEquals(20, NullSpace.defaultK(2048));
        assertEquals(1, NullSpace.defaultK(64));
        assertEquals(23, NullSpace.defaultK(2304));
        Map<String, String> params = new HashMap<>(Lab.studyParameters(1, -1, 8));
        params.put("k", "65");
        var e = assertThrows(IllegalArgumentException.class, () -> lab.run(new NullSpace(lab.studies()), params));
        assertTrue(e.getMessage().contains("null-space") && e.getMessage().contains("k") && e.getMessage().contains("'65'"), e.getMessage());
        params.put("k", "1");
        params.put("reading", "cooked");
        e = assertThrows(IllegalArgumentException.class, () -> lab.run(new NullSpace(lab.studies()), params));
        assertTrue(e.getMessage().contains("reading") && e.getMessage().contains("'cooked'"), e.getMessage());
    }

    @Test
    void verdictRulesGiveEveryOutcome() {
        assertEquals(Verdict.AGREES, NullSpace.absoluteCosVerdict(true, 0.06));
        assertEquals(Verdict.PARTLY, NullSpace.absoluteCosVerdict(true, 0.15));
        assertEquals(Verdict.DISAGREES, NullSpace.absoluteCosVerdict(true, 0.5));
        assertEquals(Verdict.NOT_APPLICABLE, NullSpace.absoluteCosVerdict(false, 0.06));
        assertEquals(Verdict.AGREES, NullSpace.relativeCosVerdict(50));
        assertEquals(Verdict.PARTLY, NullSpace.relativeCosVerdict(97));
        assertEquals(Verdict.DISAGREES, NullSpace.relativeCosVerdict(99.5));
        assertEquals(Verdict.NOT_APPLICABLE, NullSpace.relativeCosVerdict(Double.NaN));
        assertEquals(Verdict.AGREES, NullSpace.dropVerdict(0.01));
        assertEquals(Verdict.PARTLY, NullSpace.dropVerdict(0.3));
        assertEquals(Verdict.DISAGREES, NullSpace.dropVerdict(0.9));
        assertEquals(Verdict.AGREES, NullSpace.randomLikeVerdict(60));
        assertEquals(Verdict.AGREES, NullSpace.randomLikeVerdict(1));
        assertEquals(Verdict.PARTLY, NullSpace.randomLikeVerdict(98));
        assertEquals(Verdict.DISAGREES, NullSpace.randomLikeVerdict(99.9));
        assertEquals(Verdict.AGREES, NullSpace.absoluteShareVerdict(true, 0.099));
        assertEquals(Verdict.PARTLY, NullSpace.absoluteShareVerdict(true, 0.25));
        assertEquals(Verdict.DISAGREES, NullSpace.absoluteShareVerdict(true, 0.5));
        assertEquals(Verdict.NOT_APPLICABLE, NullSpace.absoluteShareVerdict(false, 0.099));
        assertEquals(50.0, NullSpace.percentile(2, new double[] {1, 2, 3}), 1e-12);
        assertEquals(2.5, NullSpace.quantile(new double[] {4, 1, 2, 3}, 0.5), 1e-12);
    }

    private static double[][] randomMatrix(int rows, int cols, Random random) {
        double[][] a = new double[rows][cols];
        for (double[] row : a) for (int j = 0; j < cols; j++) row[j] = random.nextGaussian();
        return a;
    }
}
