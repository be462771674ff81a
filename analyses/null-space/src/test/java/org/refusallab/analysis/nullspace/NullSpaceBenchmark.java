package org.refusallab.analysis.nullspace;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.refusallab.api.model.Tensor;

/**
 * Not a unit test (no timing in the test suite): a program that times the null-space analysis at gemma-2b's shape
 * (d_model 2048, vocab 256000, seeded random W_U) against the previous implementation, in the same process. Run it
 * from the module after {@code mvn install} (README, "Speed"):
 * <pre>java -Xmx6g -cp target/classes:target/test-classes:COMMONS_MATH3_JAR:REFUSAL_LAB_API_JAR \
 *     org.refusallab.analysis.nullspace.NullSpaceBenchmark [d vocab slice]</pre>
 * The old Gram loop is timed on a vocabulary slice (it takes minutes on the full vocabulary) and the new kernel on the
 * same slice as well as the full one; the old SVD runs once, last, on the slice's d x d Gram matrix (its cost depends on d
 * only).
 */
public final class NullSpaceBenchmark {

    private NullSpaceBenchmark() {}

    /** The previous Gram matrix (commit c746228): one dot product per element, rows in parallel. */
    static double[][] oldGram(float[] flat, int d, int vocab) {
        double[][] g = new double[d][d];
        IntStream.range(0, d).parallel().forEach(i -> {
            for (int j = i; j < d; j++) {
                double s = 0;
                int a = i * vocab, b = j * vocab;
                for (int t = 0; t < vocab; t++) s += (double) flat[a + t] * flat[b + t];
                g[i][j] = s;
            }
        });
        for (int i = 0; i < d; i++) for (int j = 0; j < i; j++) g[i][j] = g[j][i];
        return g;
    }

    /** The previous spectrum (commit c746228): commons-math3's SVD of the Gram matrix. */
    static NullSpace.Spectrum oldSpectrum(double[][] gram) {
        int d = gram.length;
        SingularValueDecomposition svd = new SingularValueDecomposition(new Array2DRowRealMatrix(gram, false));
        double[] ev = svd.getSingularValues();
        double[] sigma = new double[d];
        for (int i = 0; i < d; i++) sigma[i] = Math.sqrt(Math.max(0, ev[i]));
        double[][] u = svd.getU().getData();
        double[][] vectors = new double[d][d];
        for (int i = 0; i < d; i++) for (int r = 0; r < d; r++) vectors[i][r] = u[r][i];
        return new NullSpace.Spectrum(sigma, vectors);
    }

    /** The previous cosines (commit c746228): one pass over W_U per unit vector. */
    static double[] oldCosines(NullSpace.View view, double[] unit) {
        int d = view.d(), vocab = view.vocab();
        double[] dots = new double[vocab], norms = new double[vocab];
        for (int i = 0; i < d; i++) {
            for (int t = 0; t < vocab; t++) {
                double x = view.get(i, t);
                dots[t] += x * unit[i];
                norms[t] += x * x;
            }
        }
        for (int t = 0; t < vocab; t++) dots[t] = norms[t] == 0 ? 0 : dots[t] / Math.sqrt(norms[t]);
        return dots;
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private static void say(String format, Object... args) {
        System.out.println(String.format(Locale.ROOT, format, args));
        System.out.flush();
    }

    /** Largest |a - b| relative to the largest |a|. */
    private static double relativeDifference(double[][] a, double[][] b) {
        double diff = 0, scale = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                diff = Math.max(diff, Math.abs(a[i][j] - b[i][j]));
                scale = Math.max(scale, Math.abs(a[i][j]));
            }
        }
        return diff / scale;
    }

    public static void main(String[] args) {
        int d = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
        int vocab = args.length > 1 ? Integer.parseInt(args[1]) : 256000;
        int slice = args.length > 2 ? Integer.parseInt(args[2]) : 32000;
        say("null-space benchmark: d_model %d, vocab %d, old Gram on a %d-token slice; %d cores, max heap %d MB", d, vocab, slice,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
        float[] flat = new float[d * vocab];
        IntStream.range(0, d).parallel().forEach(i -> { // seeded per row: the same matrix whatever the scheduling
            SplittableRandom random = new SplittableRandom(1000L + i);
            for (int t = 0; t < vocab; t++) flat[i * vocab + t] = (float) (random.nextDouble() - 0.5);
        });
        float[] normWeight = new float[d];
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < d; i++) normWeight[i] = (float) (random.nextDouble() - 0.5);
        Tensor wu = new Tensor(new long[] {d, vocab}, flat);
        double[] unit = NullSpace.randomUnits(1, d, 5)[0];
        double[][] randomShares = NullSpace.randomUnits(1000, d, 11), randomCos = NullSpace.randomUnits(100, d, 12);
        int k = NullSpace.defaultK(d);

        // 1. the new analysis, end to end (everything run() computes; no study loading, no report)
        List<Double> stages = new ArrayList<>();
        long[] mark = {System.nanoTime()};
        long start = mark[0];
        List<NullSpace.Measured> all = NullSpace.measureReadings(wu, normWeight, NullSpace.Reading.TL_PROCESSED, unit, k, randomShares, randomCos,
                () -> { stages.add(seconds(mark[0])); mark[0] = System.nanoTime(); });
        double newTotal = seconds(start);
        say("NEW whole analysis: %.1f s (Gram %.1f s, both spectra side by side %.1f s, tl-processed cosines + shares %.1f s, raw %.1f s)",
                newTotal, stages.get(0), stages.get(1), stages.get(2), stages.get(3));
        say("    (tl-processed: max |cos| %.4f, bottom-%d share %.4f, sigma_max %.2f, sigma_min %.4f)", all.get(0).maxCos(), k, all.get(0).share(),
                all.get(0).spectrum().singular()[0], all.get(0).spectrum().singular()[d - 1]);

        // 2. the Gram matrix on a slice: old loop vs new kernel
        float[] part = new float[d * slice];
        for (int i = 0; i < d; i++) System.arraycopy(flat, i * vocab, part, i * slice, slice);
        long t0 = System.nanoTime();
        double[][] oldG = oldGram(part, d, slice);
        double oldGramSlice = seconds(t0);
        t0 = System.nanoTime();
        double[][] newG = NullSpace.gram(part, d, slice);
        double newGramSlice = seconds(t0);
        double oldGramFull = oldGramSlice * vocab / slice;
        say("Gram on %d tokens: old %.1f s, new %.1f s, ratio %.1fx; max |difference| / max |G| = %.1e", slice, oldGramSlice, newGramSlice,
                oldGramSlice / newGramSlice, relativeDifference(oldG, newG));
        say("Gram on all %d tokens: new %.1f s; old extrapolated from the slice %.0f s (ratio %.1fx)", vocab, stages.get(0), oldGramFull,
                oldGramFull / stages.get(0));
        part = null;
        oldG = null;

        // 3. the cosines: the old loop per vector (3 vectors) against the new batch (101 vectors per reading, from stage 1)
        NullSpace.View tl = NullSpace.View.of(wu, normWeight, NullSpace.Reading.TL_PROCESSED);
        t0 = System.nanoTime();
        for (int v = 0; v < 3; v++) oldCosines(tl, v == 0 ? unit : randomCos[v - 1]);
        double oldPerVector = seconds(t0) / 3;
        double[] newCos = all.get(0).cosines(), oldCos = oldCosines(tl, unit);
        double cosDiff = 0;
        for (int t = 0; t < vocab; t++) cosDiff = Math.max(cosDiff, Math.abs(newCos[t] - oldCos[t]));
        say("Cosines: old %.2f s per vector (x %d vectors per reading = %.0f s), new batched reading incl. shares %.1f s; max |difference| %.1e",
                oldPerVector, randomCos.length + 1, oldPerVector * (randomCos.length + 1), stages.get(2), cosDiff);

        // 4. the spectrum: the old SVD once against one eigendecomposition, both of the slice's d x d Gram matrix
        double[][] sliceGram = newG;
        t0 = System.nanoTime();
        NullSpace.Spectrum eig = NullSpace.spectrum(sliceGram);
        double newSpectrum = seconds(t0);
        say("Spectrum: one eigendecomposition %.1f s (alone)", newSpectrum);
        t0 = System.nanoTime();
        NullSpace.Spectrum svd = oldSpectrum(sliceGram);
        double oldSpectrum = seconds(t0);
        double sigmaDiff = 0, vectorDiff = 0;
        for (int i = 0; i < d; i++) {
            sigmaDiff = Math.max(sigmaDiff, Math.abs(eig.singular()[i] - svd.singular()[i]) / svd.singular()[0]);
            vectorDiff = Math.max(vectorDiff, Math.abs(Math.abs(NullSpace.dot(eig.vectors()[i], svd.vectors()[i])) - 1));
        }
        double[] curveOld = NullSpace.shareCurve(svd, unit), curveNew = NullSpace.shareCurve(eig, unit);
        double curveDiff = 0;
        for (int i = 0; i < d; i++) curveDiff = Math.max(curveDiff, Math.abs(curveOld[i] - curveNew[i]));
        say("Spectrum: old SVD %.1f s, new eigendecomposition %.1f s, ratio %.1fx; max |sigma difference| / sigma_max %.1e, "
                + "max | |cos(vectors)| - 1 | %.1e, max share-curve difference %.1e", oldSpectrum, newSpectrum, oldSpectrum / newSpectrum, sigmaDiff,
                vectorDiff, curveDiff);

        double oldTotal = oldGramFull + 2 * oldSpectrum + 2 * oldPerVector * (randomCos.length + 1);
        say("OLD whole analysis, estimated: Gram %.0f s (extrapolated) + 2 x SVD %.0f s + 2 x %d cosine passes %.0f s = %.0f s (shares not counted)",
                oldGramFull, 2 * oldSpectrum, randomCos.length + 1, 2 * oldPerVector * (randomCos.length + 1), oldTotal);
        say("NEW whole analysis %.1f s: ratio %.1fx", newTotal, oldTotal / newTotal);
    }
}
