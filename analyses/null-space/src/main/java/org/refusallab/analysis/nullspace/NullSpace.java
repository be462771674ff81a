package org.refusallab.analysis.nullspace;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Assumption;
import org.refusallab.api.analysis.Describe;
import org.refusallab.api.model.ModelInfo;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Measure;
import org.refusallab.api.result.Rule;
import org.refusallab.api.result.Provenance;
import org.refusallab.api.result.Table;
import org.refusallab.api.study.Stats;
import org.refusallab.api.study.Study;
import org.refusallab.api.study.StudyParameters;
import org.refusallab.api.study.StudyService;
import org.refusallab.api.study.Verdicts;

/**
 * The seed's "Direct Unembedding Effect" and "Unembedding Null-space Effect": (a) the cosine of the refusal direction
 * with every token's unembedding, (b) the singular values of W_U, (c) the share of the direction in the span of the
 * k residual-space singular vectors of W_U with the smallest singular values, against random unit vectors. Two
 * readings of W_U, both published: TransformerLens's processed W_U (final norm's (1 + w) folded in, centred over the
 * vocabulary; the seed's) and the raw tied embedding. Singular values come from commons-math3 (embedded in this
 * bundle): the symmetric eigendecomposition of the d_model x d_model Gram matrix W_U W_U^T, whose eigenvalues are
 * sigma^2 and whose eigenvectors are W_U's residual-space (left) singular vectors; this keeps the work at
 * d_model^2 x vocab (a blocked, parallel kernel) plus d_model^3.
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = NullSpace.ID, title = "Unembedding cosines and null space", order = 100,
        parameters = {NullSpace.Params.class, StudyParameters.class},
        linearises = Assumption.LINEAR_LOGITS)
public final class NullSpace implements Analysis {

    public static final String ID = "null-space";

    /** Which W_U the findings read (both are published). */
    enum Reading {
        TL_PROCESSED("TransformerLens-processed W_U ((1 + w) folded in, centred over the vocabulary)"),
        RAW("raw tied W_U (embedding transposed)");

        final String text;

        Reading(String text) { this.text = text; }

        String id() { return name().toLowerCase(Locale.ROOT).replace('_', '-'); }
    }

    @interface Params {
        @Describe("the W_U the findings read: tl-processed (the seed's, TransformerLens default processing) or raw; both are published")
        Reading reading() default Reading.TL_PROCESSED;

        @Describe("bottom singular vectors spanned; 0 = max(1, round(20 * d_model / 2048)), the seed's 20 of 2048")
        int k() default 0;

        @Describe("random unit vectors for the null-space share distribution")
        int randomVectors() default 1000;

        @Describe("random unit vectors for the max |cos| comparison (each costs d_model x vocab)")
        int randomCosineVectors() default 100;

        @Describe("seed of the random unit vectors")
        long seed() default 11L;
    }

    private final StudyService studies;

    @Activate
    public NullSpace(@Reference StudyService studies) {
        this.studies = studies;
    }

    /**
     * W_U in one reading, as a view of the stored float matrix (no d_model x vocab copy: 4 GB in double for gemma):
     * entry (i, t) = (W_U[i][t] - mean[i]) * fold[i]; mean is W_U's mean over the vocabulary (centring) or 0, fold
     * the final norm's (1 + w) or 1.
     */
    record View(float[] flat, int d, int vocab, double[] mean, double[] fold) {
        static View of(Tensor wu, float[] normWeight, Reading reading) {
            int d = wu.dim(0), vocab = wu.dim(1);
            float[] flat = wu.data();
            double[] mean = new double[d], fold = new double[d];
            for (int i = 0; i < d; i++) {
                fold[i] = reading == Reading.TL_PROCESSED ? 1.0 + normWeight[i] : 1.0;
                if (reading == Reading.TL_PROCESSED) {
                    double sum = 0;
                    for (int t = 0; t < vocab; t++) sum += flat[i * vocab + t];
                    mean[i] = sum / vocab;
                }
            }
            return new View(flat, d, vocab, mean, fold);
        }

        double get(int i, int t) {
            return (flat[i * vocab + t] - mean[i]) * fold[i];
        }

        /** This reading's Gram matrix W W^T from the raw one: fold_i fold_j (G_ij - vocab mean_i mean_j). */
        double[][] gram(double[][] raw) {
            double[][] g = new double[d][d];
            for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) g[i][j] = fold[i] * fold[j] * (raw[i][j] - vocab * mean[i] * mean[j]);
            return g;
        }

        /** Cosine of a unit vector with every token's unembedding (a column of W_U). */
        double[] cosines(double[] unit) {
            return cosines(new double[][] {unit})[0];
        }

        /**
         * Cosines of several unit vectors with every token's unembedding, {@code [vector][token]}, in one pass over W_U
         * (the direction and the random vectors share it). Vocabulary tiles in parallel; each output is summed over
         * i = 0..d-1 in order, whatever the thread scheduling.
         */
        double[][] cosines(double[][] units) {
            int n = units.length;
            double[][] dots = new double[n][vocab];
            double[] norms = new double[vocab];
            int tiles = (vocab + COS_TILE - 1) / COS_TILE;
            java.util.stream.IntStream.range(0, tiles).parallel().forEach(tile -> {
                int t0 = tile * COS_TILE, nt = Math.min(COS_TILE, vocab - t0);
                double[][] x = new double[4][nt]; // four rows of this reading's W_U tile
                for (int i0 = 0; i0 < d; i0 += 4) {
                    int rows = Math.min(4, d - i0);
                    for (int r = 0; r < 4; r++) {
                        if (r >= rows) { Arrays.fill(x[r], 0); continue; } // a zero row adds exactly 0
                        int i = i0 + r, base = i * vocab + t0;
                        for (int t = 0; t < nt; t++) x[r][t] = (flat[base + t] - mean[i]) * fold[i];
                        for (int t = 0; t < nt; t++) norms[t0 + t] += x[r][t] * x[r][t];
                    }
                    double[] x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
                    for (int v = 0; v < n; v++) {
                        double[] u = units[v], out = dots[v];
                        double a0 = u[i0], a1 = rows > 1 ? u[i0 + 1] : 0, a2 = rows > 2 ? u[i0 + 2] : 0, a3 = rows > 3 ? u[i0 + 3] : 0;
                        // one store per element and four rows per pass: the JIT vectorises this loop; left to right = i in order
                        for (int t = 0; t < nt; t++) out[t0 + t] = out[t0 + t] + x0[t] * a0 + x1[t] * a1 + x2[t] * a2 + x3[t] * a3;
                    }
                }
                for (double[] out : dots) for (int t = t0; t < t0 + nt; t++) out[t] = norms[t] == 0 ? 0 : out[t] / Math.sqrt(norms[t]);
            });
            return dots;
        }
    }

    /** Vocabulary columns per task of the batched cosines: four rows of them plus each output's slice stay in L1/L2. */
    static final int COS_TILE = 1024;
    /** Rows per block of the Gram kernel: two packed blocks of GRAM_BLOCK x GRAM_TILE doubles (512 KB) fit in L2. */
    static final int GRAM_BLOCK = 64;
    /** Vocabulary columns per tile of the Gram kernel. */
    static final int GRAM_TILE = 512;

    /**
     * W W^T of a {@code [d][vocab]} float matrix, accumulated in double (the d^2 vocab hot loop). Cache-blocked: the
     * upper triangle's GRAM_BLOCK x GRAM_BLOCK block pairs run in parallel, each over vocabulary tiles packed as double
     * into two small arrays that stay in L2; inside, a 4 x 4 register kernel keeps 16 independent fused multiply-add
     * chains (one chain per output is latency-bound). Deterministic: every element sums its tile partials in tile order
     * and each partial in t order, whatever thread ran it.
     */
    static double[][] gram(float[] flat, int d, int vocab) {
        double[][] g = new double[d][d];
        int blocks = (d + GRAM_BLOCK - 1) / GRAM_BLOCK;
        List<int[]> pairs = new ArrayList<>();
        for (int bi = 0; bi < blocks; bi++) for (int bj = bi; bj < blocks; bj++) pairs.add(new int[] {bi, bj});
        pairs.parallelStream().forEach(pair -> gramBlock(flat, d, vocab, pair[0] * GRAM_BLOCK, pair[1] * GRAM_BLOCK, g));
        for (int i = 0; i < d; i++) for (int j = 0; j < i; j++) g[i][j] = g[j][i];
        return g;
    }

    /** One block pair of {@link #gram(float[], int, int)}: rows i0.., columns j0.., written into g (upper part used). */
    private static void gramBlock(float[] flat, int d, int vocab, int i0, int j0, double[][] g) {
        int ni = Math.min(GRAM_BLOCK, d - i0), nj = Math.min(GRAM_BLOCK, d - j0);
        int ni4 = (ni + 3) & ~3, nj4 = (nj + 3) & ~3; // rows padded to the kernel's 4 stay zero and add exactly 0
        double[] a = new double[ni4 * GRAM_TILE], b = new double[nj4 * GRAM_TILE];
        double[][] acc = new double[ni4][nj4];
        for (int t0 = 0; t0 < vocab; t0 += GRAM_TILE) {
            int nt = Math.min(GRAM_TILE, vocab - t0);
            for (int i = 0; i < ni; i++) for (int t = 0, src = (i0 + i) * vocab + t0; t < nt; t++) a[i * GRAM_TILE + t] = flat[src + t];
            for (int j = 0; j < nj; j++) for (int t = 0, src = (j0 + j) * vocab + t0; t < nt; t++) b[j * GRAM_TILE + t] = flat[src + t];
            for (int i = 0; i < ni4; i += 4) {
                for (int j = 0; j < nj4; j += 4) {
                    int a0 = i * GRAM_TILE, a1 = a0 + GRAM_TILE, a2 = a1 + GRAM_TILE, a3 = a2 + GRAM_TILE;
                    int b0 = j * GRAM_TILE, b1 = b0 + GRAM_TILE, b2 = b1 + GRAM_TILE, b3 = b2 + GRAM_TILE;
                    double s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
                    double s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
                    for (int t = 0; t < nt; t++) {
                        double x0 = a[a0 + t], x1 = a[a1 + t], x2 = a[a2 + t], x3 = a[a3 + t];
                        double y0 = b[b0 + t], y1 = b[b1 + t], y2 = b[b2 + t], y3 = b[b3 + t];
                        s00 = Math.fma(x0, y0, s00); s01 = Math.fma(x0, y1, s01); s02 = Math.fma(x0, y2, s02); s03 = Math.fma(x0, y3, s03);
                        s10 = Math.fma(x1, y0, s10); s11 = Math.fma(x1, y1, s11); s12 = Math.fma(x1, y2, s12); s13 = Math.fma(x1, y3, s13);
                        s20 = Math.fma(x2, y0, s20); s21 = Math.fma(x2, y1, s21); s22 = Math.fma(x2, y2, s22); s23 = Math.fma(x2, y3, s23);
                        s30 = Math.fma(x3, y0, s30); s31 = Math.fma(x3, y1, s31); s32 = Math.fma(x3, y2, s32); s33 = Math.fma(x3, y3, s33);
                    }
                    double[] r0 = acc[i], r1 = acc[i + 1], r2 = acc[i + 2], r3 = acc[i + 3];
                    r0[j] += s00; r0[j + 1] += s01; r0[j + 2] += s02; r0[j + 3] += s03;
                    r1[j] += s10; r1[j + 1] += s11; r1[j + 2] += s12; r1[j + 3] += s13;
                    r2[j] += s20; r2[j + 1] += s21; r2[j + 2] += s22; r2[j + 3] += s23;
                    r3[j] += s30; r3[j + 1] += s31; r3[j + 2] += s32; r3[j + 3] += s33;
                }
            }
        }
        for (int i = 0; i < ni; i++) System.arraycopy(acc[i], 0, g[i0 + i], j0, nj);
    }

    /** W W^T of a {@code [d][vocab]} double matrix (planted tests). */
    static double[][] gram(double[][] w) {
        int d = w.length;
        double[][] g = new double[d][d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) g[i][j] = dot(w[i], w[j]);
        return g;
    }

    /** Singular values of W_U (descending) and its residual-space singular vectors {@code vectors[i]}, in the same order. */
    record Spectrum(double[] singular, double[][] vectors) {
        int size() { return singular.length; }

        /** The direction's coordinates in the singular basis, smallest singular value first. */
        double[] coordinatesFromBottom(double[] unit) {
            int d = size();
            double[] c = new double[d];
            for (int j = 0; j < d; j++) c[j] = dot(vectors[d - 1 - j], unit);
            return c;
        }
    }

    /**
     * From a Gram matrix W W^T (symmetric positive semi-definite): its eigenvalues are sigma^2 of W (rounding can
     * make the smallest slightly negative: clamped to 0), its eigenvectors W's residual-space singular vectors. The
     * symmetric eigendecomposition costs a fraction of an SVD of the same matrix. Signs of the vectors are arbitrary;
     * only squared projections are read from them. Reads the upper triangle (mirrored: a derived Gram matrix can be
     * asymmetric in the last bit, and EigenDecomposition takes its slow non-symmetric path on an asymmetric matrix).
     */
    static Spectrum spectrum(double[][] gram) {
        int d = gram.length;
        double[][] upper = new double[d][d];
        for (int i = 0; i < d; i++) for (int j = i; j < d; j++) upper[i][j] = upper[j][i] = gram[i][j];
        EigenDecomposition eig = new EigenDecomposition(new Array2DRowRealMatrix(upper, false));
        double[] ev = eig.getRealEigenvalues();
        double[][] vt = eig.getVT().getData(); // rows: the eigenvectors, in ev's order
        Integer[] order = new Integer[d];
        for (int i = 0; i < d; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> Double.compare(ev[y], ev[x])); // descending (stable for ties)
        double[] sigma = new double[d];
        double[][] vectors = new double[d][];
        for (int i = 0; i < d; i++) {
            sigma[i] = Math.sqrt(Math.max(0, ev[order[i]]));
            vectors[i] = vt[order[i]];
        }
        return new Spectrum(sigma, vectors);
    }

    /** Norm of the projection of a unit vector on the span of the bottom k singular vectors, for every k = 1..d. */
    static double[] shareCurve(Spectrum s, double[] unit) {
        double[] c = s.coordinatesFromBottom(unit), out = new double[c.length];
        double acc = 0;
        for (int k = 0; k < c.length; k++) {
            acc += c[k] * c[k];
            out[k] = Math.sqrt(acc);
        }
        return out;
    }

    static double maxAbs(double[] xs) {
        double m = 0;
        for (double x : xs) m = Math.max(m, Math.abs(x));
        return m;
    }

    static double[][] randomUnits(int count, int d, long seed) {
        Random random = new Random(seed);
        double[][] out = new double[count][];
        for (int i = 0; i < count; i++) {
            double[] v = new double[d];
            for (int j = 0; j < d; j++) v[j] = random.nextGaussian();
            out[i] = unit(v);
        }
        return out;
    }

    /** Percentile (0-100) of x among samples: the share of samples below x, ties counting one half. */
    static double percentile(double x, double[] samples) {
        double below = 0;
        for (double s : samples) below += s < x ? 1 : s == x ? 0.5 : 0;
        return 100 * below / samples.length;
    }

    /** The q-quantile (0..1) of samples, linear interpolation. */
    static double quantile(double[] samples, double q) {
        double[] s = samples.clone();
        Arrays.sort(s);
        double pos = q * (s.length - 1);
        int lo = (int) Math.floor(pos), hi = Math.min(s.length - 1, lo + 1);
        return s[lo] + (pos - lo) * (s[hi] - s[lo]);
    }

    /** One reading's measurements. */
    record Measured(Reading reading, double[] cosines, double maxCos, int maxToken, double randomMaxCos95, double maxCosPercentile,
                    Spectrum spectrum, int k, double[] curve, double share, double[] randomShares, double[][] randomCurves,
                    double sharePercentile, double minOverMedian) {
        double shareMean() { return Stats.mean(randomShares); }
    }

    static Measured measure(Reading reading, Spectrum s, java.util.function.Function<double[], double[]> cosines, double[] unit, int k,
                            double[][] randomForShares, double[][] randomForCos) {
        return measureBatch(reading, s, units -> Arrays.stream(units).map(cosines).toArray(double[][]::new), unit, k, randomForShares, randomForCos);
    }

    /** Unit vectors per pass of the batched cosines: the direction and the random vectors share passes over W_U, 32 at a time
     *  (each needs vocab doubles while its pass runs). */
    static final int COS_BATCH = 32;

    /** {@link #measure} with cosines computed for many unit vectors at once ({@code [vector][token]}). */
    static Measured measureBatch(Reading reading, Spectrum s, java.util.function.Function<double[][], double[][]> cosines, double[] unit, int k,
                                 double[][] randomForShares, double[][] randomForCos) {
        double[][] units = new double[1 + randomForCos.length][];
        units[0] = unit;
        System.arraycopy(randomForCos, 0, units, 1, randomForCos.length);
        double[] cos = null;
        double[] randomMax = new double[randomForCos.length];
        for (int from = 0; from < units.length; from += COS_BATCH) {
            double[][] got = cosines.apply(Arrays.copyOfRange(units, from, Math.min(units.length, from + COS_BATCH)));
            for (int j = 0; j < got.length; j++) {
                if (from + j == 0) cos = got[0];
                else randomMax[from + j - 1] = maxAbs(got[j]);
            }
        }
        int arg = 0;
        for (int t = 0; t < cos.length; t++) if (Math.abs(cos[t]) > Math.abs(cos[arg])) arg = t;
        double[] curve = shareCurve(s, unit);
        double[][] randomCurves = new double[randomForShares.length][];
        double[] shares = new double[randomForShares.length];
        java.util.stream.IntStream.range(0, randomForShares.length).parallel().forEach(i -> {
            randomCurves[i] = shareCurve(s, randomForShares[i]);
            shares[i] = randomCurves[i][k - 1];
        });
        double[] sorted = s.singular().clone();
        Arrays.sort(sorted);
        double median = sorted[sorted.length / 2];
        return new Measured(reading, cos, Math.abs(cos[arg]), arg, randomMax.length == 0 ? Double.NaN : quantile(randomMax, 0.95),
                randomMax.length == 0 ? Double.NaN : percentile(Math.abs(cos[arg]), randomMax), s, k, curve, curve[k - 1], shares, randomCurves,
                percentile(curve[k - 1], shares), median == 0 ? 0 : sorted[0] / median);
    }

    /**
     * Both readings measured, the findings' reading first: the raw Gram matrix once (both readings' follow from it), the
     * two spectra side by side (one eigendecomposition per core), then each reading's cosines and shares. {@code step}
     * is called after each of the 4 stages (gram, spectra, first reading, second reading).
     */
    static List<Measured> measureReadings(Tensor wu, float[] normWeight, Reading primary, double[] unit, int k, double[][] randomShares,
                                          double[][] randomCos, Runnable step) {
        double[][] rawGram = gram(wu.data(), wu.dim(0), wu.dim(1));
        step.run();
        List<Reading> readings = List.of(primary, primary == Reading.TL_PROCESSED ? Reading.RAW : Reading.TL_PROCESSED);
        List<View> views = readings.stream().map(r -> View.of(wu, normWeight, r)).toList();
        List<Spectrum> spectra = views.parallelStream().map(v -> spectrum(v.gram(rawGram))).toList(); // keeps the readings' order
        step.run();
        List<Measured> all = new ArrayList<>();
        for (int i = 0; i < readings.size(); i++) {
            all.add(measureBatch(readings.get(i), spectra.get(i), views.get(i)::cosines, unit, k, randomShares, randomCos));
            step.run();
        }
        return all;
    }

    static int defaultK(int dModel) {
        return Math.max(1, (int) Math.round(20.0 * dModel / 2048));
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Study study = studies.open(context);
        Params params = context.parameters(Params.class);
        ModelInfo info = study.model().info();
        int d = info.dModel();
        int k = params.k() == 0 ? defaultK(d) : params.k();
        if (k < 1 || k > d) throw new IllegalArgumentException("analysis null-space: parameter k = '" + params.k() + "' is not between 1 and d_model = " + d);
        if (params.randomVectors() < 100) {
            throw new IllegalArgumentException("analysis null-space: parameter randomVectors = '" + params.randomVectors() + "' is not at least 100");
        }
        if (params.randomCosineVectors() < 0) {
            throw new IllegalArgumentException("analysis null-space: parameter randomCosineVectors = '" + params.randomCosineVectors() + "' is negative");
        }
        double[] unit = toDouble(study.direction().unit());
        double[][] randomShares = randomUnits(params.randomVectors(), d, params.seed());
        double[][] randomCos = randomUnits(params.randomCosineVectors(), d, params.seed() + 1);
        Tensor wu = study.model().unembedMatrix();
        float[] normWeight = study.model().finalNormWeight();
        context.progress().start("null-space: W_U readings", 4);
        List<Measured> all = measureReadings(wu, normWeight, params.reading(), unit, k, randomShares, randomCos, () -> context.progress().step(1));
        context.progress().done();
        return result(study, params, all, k, d);
    }

    private AnalysisResult result(Study study, Params params, List<Measured> all, int k, int d) {
        Measured primary = all.get(0);
        Provenance prov = Provenance.builder().direction(study.direction().provenance()).build();
        List<Figure> figures = new ArrayList<>();
        for (Measured m : all) {
            Figure f = Figure.histogram("unembedding-cosines-" + m.reading().id())
                    .title("Cosine of the refusal direction with every token's unembedding (" + m.reading().id() + ")")
                    .x("cosine", List.of()).y("tokens", "").cells("refusal direction", new double[][] {m.cosines()})
                    .caption(m.reading().text + ": max |cos| " + Stats.fmt(m.maxCos()) + " (token " + token(study, m.maxToken()) + ").")
                    .provenance(prov).build();
            figures.add(f);
        }
        List<String> index = new ArrayList<>();
        for (int i = 1; i <= d; i++) index.add(Integer.toString(i));
        Figure.Builder sv = Figure.line("singular-values").title("Singular values of W_U (log10)").x("index (largest first)", index)
                .y("log10 singular value", "log10");
        for (Measured m : all) sv.series(m.reading().id(), log10(m.spectrum().singular()));
        figures.add(sv.caption("The seed: the smallest singular values drop steeply. Singular values of the d_model x d_model Gram matrix "
                + "W_U W_U^T (commons-math3 symmetric eigendecomposition), square-rooted.").provenance(Provenance.NONE).build());

        List<String> ks = new ArrayList<>();
        for (int i = 1; i <= d; i++) ks.add(Integer.toString(i));
        double[] mean = new double[d], lo = new double[d], hi = new double[d];
        for (int j = 0; j < d; j++) {
            double[] col = new double[primary.randomCurves().length];
            for (int i = 0; i < col.length; i++) col[i] = primary.randomCurves()[i][j];
            mean[j] = Stats.mean(col);
            lo[j] = quantile(col, 0.025);
            hi[j] = quantile(col, 0.975);
        }
        Figure.Builder curve = Figure.line("bottom-share-curve").title("Share of the direction in the span of the bottom k singular vectors")
                .x("k (smallest singular values)", ks).y("|projection| / |r|", "")
                .series("refusal direction (" + primary.reading().id() + ")", primary.curve())
                .series("random unit vectors: mean", mean).series("random: 2.5 %", lo).series("random: 97.5 %", hi);
        for (Measured m : all.subList(1, all.size())) curve.series("refusal direction (" + m.reading().id() + ")", m.curve());
        figures.add(curve.caption("Norm of the projection (the seed's '~10 %' reading; square it for the share of squared norm). Random band: "
                + primary.randomShares().length + " seeded unit vectors, " + primary.reading().id() + " W_U. Marked: k = " + k + ".").provenance(prov).build());

        Figure hist = Figure.histogram("random-bottom-shares").title("Bottom-" + k + " share: random unit vectors vs the refusal direction ("
                + primary.reading().id() + ")").x("|projection| / |r|", List.of()).y("random vectors", "")
                .cells("random unit vectors", new double[][] {primary.randomShares()})
                .caption("Refusal direction: " + Stats.fmt(primary.share()) + " (percentile " + Stats.fmt(primary.sharePercentile()) + ").")
                .provenance(prov).build();
        figures.add(withXLine(hist, "refusal direction", primary.share()));

        List<List<String>> rows = new ArrayList<>();
        for (Measured m : all) {
            rows.add(List.of(m.reading().id(), Stats.fmt(m.maxCos()), token(study, m.maxToken()), Stats.fmt(m.randomMaxCos95()),
                    Integer.toString(m.k()), Stats.fmt(m.share()), Stats.fmt(m.share() * m.share()), Stats.fmt(m.shareMean()),
                    Stats.fmt(quantile(m.randomShares(), 0.025)) + " .. " + Stats.fmt(quantile(m.randomShares(), 0.975)),
                    Stats.fmt(m.sharePercentile()), Stats.fmt(Math.sqrt((double) m.k() / d)), Stats.fmt(m.minOverMedian())));
        }
        Table table = Table.of("null-space-summary").title("Cosines and bottom-k share per W_U reading")
                .columns("W_U", "max |cos|", "token", "random max |cos| 95 %", "k", "share (norm)", "share (squared)", "random mean",
                        "random 95 % interval", "percentile", "sqrt(k / d_model)", "sigma_min / sigma_median")
                .rows(rows).caption("First row: the reading the findings use (" + primary.reading().text + ").").provenance(prov).build();
        return new AnalysisResult("Does the refusal direction act through an unembedded token or through W_U's null space? "
                + "Findings read the " + primary.reading().text + ".", figures, List.of(table), findings(primary, token(study, primary.maxToken()), study.model().info(), d));
    }

    /** The seed's model: gemma-2b-it's shapes. Its absolute numbers (max |cos| ~ 0.06, share ~ 10 %) apply only there. */
    static boolean seedModel(ModelInfo info) {
        return Verdicts.isSeedModel(info);
    }

    /** A token as text with its id, e.g. {@code 'I' (id 235285)}. */
    private static String token(Study study, int id) {
        return "'" + study.tokenizer().tokenString(id) + "' (id " + id + ")";
    }

    static final Rule ABSOLUTE_COS = Rule.atMost("very small = max |cos| <= 0.1 (PARTLY <= 0.2), gemma-2b-it's ~0.06", 0.1).partly(0.2).aboutSeedModel();
    static final Rule RELATIVE_COS = Rule.atMost("like a random vector = at or below random unit vectors' 95th percentile (PARTLY: the 99th)", 95).partly(99);
    static final Rule DROP = Rule.atMost("steep = sigma_min <= 0.1 sigma_median (PARTLY <= 0.5)", 0.1).partly(0.5);
    static final Rule RANDOM_LIKE = Rule.atMost("not significantly within the null space = the share's percentile among random vectors is <= 97.5 "
            + "(PARTLY <= 99.5); a percentile under 2.5 (less in the null space than random) also agrees and the note says so", 97.5).partly(99.5);
    static final Rule ABSOLUTE_SHARE = Rule.within("~10 % = a norm share of 0.05..0.2 (PARTLY up to 0.3)", 0.125, 0.075).partly(0.175).aboutSeedModel();

    static List<Finding> findings(Measured m, String maxToken, ModelInfo info, int d) {
        boolean seed = seedModel(info);
        return List.of(
                Finding.judge("The refusal direction has very small composition with any token's unembedding (max |cos| ~ 0.06 in gemma-2b-it).", ABSOLUTE_COS, seed,
                        "", Measure.of("max |cos|", m.maxCos(), "token " + maxToken)),
                Finding.judge("No token's unembedding stands out: the direction's max |cos| is like a random vector's.", RELATIVE_COS, false,
                        String.format(java.util.Locale.ROOT, "Max |cos| %s; random unit vectors' 95th percentile %s.", Stats.fmt(m.maxCos()), Stats.fmt(m.randomMaxCos95())),
                        Measure.of("percentile of max |cos| among random vectors", m.maxCosPercentile(), "")),
                Finding.judge("The smallest singular values of W_U drop steeply.", DROP, false, "", Measure.of("sigma_min / sigma_median", m.minOverMedian(), "")),
                Finding.judge("The refusal direction does not fall significantly within the null space: indistinguishable from a random vector.", RANDOM_LIKE, false,
                        String.format(java.util.Locale.ROOT, "Bottom-%d share (norm) %s, random mean %s, 95 %% interval %s .. %s.", m.k(), Stats.fmt(m.share()),
                                Stats.fmt(m.shareMean()), Stats.fmt(quantile(m.randomShares(), 0.025)), Stats.fmt(quantile(m.randomShares(), 0.975)))
                                + (m.sharePercentile() < 2.5 ? " The direction is LESS in the null space than random vectors: not random-like, but not in the null space." : ""),
                        Measure.of("percentile of the share among random vectors", m.sharePercentile(), "")),
                Finding.judge("The fraction of norm in the span of the bottom 20 singular vectors is ~10 % (gemma-2b-it, d_model 2048).", ABSOLUTE_SHARE, seed,
                        String.format(java.util.Locale.ROOT, "Squared share %s; sqrt(k/d) = %s.", Stats.fmt(m.share() * m.share()), Stats.fmt(Math.sqrt((double) m.k() / d))),
                        Measure.of("bottom-" + m.k() + " share (norm)", m.share(), "")));
    }

    static Finding.Verdict absoluteCosVerdict(boolean seedModel, double maxCos) {
        return ABSOLUTE_COS.judge(List.of(Measure.of("max |cos|", maxCos, "")), seedModel);
    }

    static Finding.Verdict relativeCosVerdict(double percentile) {
        return RELATIVE_COS.judge(Measure.of("percentile", percentile, ""));
    }

    static Finding.Verdict dropVerdict(double minOverMedian) {
        return DROP.judge(Measure.of("ratio", minOverMedian, ""));
    }

    static Finding.Verdict randomLikeVerdict(double percentile) {
        return RANDOM_LIKE.judge(Measure.of("percentile", percentile, ""));
    }

    static Finding.Verdict absoluteShareVerdict(boolean seedModel, double share) {
        return ABSOLUTE_SHARE.judge(List.of(Measure.of("share", share, "")), seedModel);
    }

    private static Figure withXLine(Figure f, String label, double x) {
        List<Figure.ReferenceLine> lines = new ArrayList<>(f.referenceLines());
        lines.add(new Figure.ReferenceLine(label, "x", x));
        return new Figure(f.id(), f.title(), f.kind(), f.xTitle(), f.yTitle(), f.unit(), f.xLabels(), f.yLabels(), f.series(), lines,
                f.caption(), f.provenance());
    }

    private static double[] log10(double[] xs) {
        double[] out = new double[xs.length];
        // a singular value of exactly 0 (a centred W_U with vocab <= d_model) has no logarithm: floor it at 1e-300
        for (int i = 0; i < xs.length; i++) out[i] = Math.log10(Math.max(xs[i], 1e-300));
        return out;
    }

    static double[] toDouble(float[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i];
        return out;
    }

    static double[] unit(double[] v) {
        double n = Math.sqrt(dot(v, v));
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i] / n;
        return out;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
