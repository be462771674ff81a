package org.refusallab.spark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.refusallab.api.study.Ablation;
import org.refusallab.api.study.RefusalMetric;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;
import org.refusallab.api.sweep.SweepService;
import org.refusallab.checkpoint.CheckpointDigest;
import org.refusallab.engine.Engine;
import org.refusallab.engine.GemmaModel;
import org.refusallab.study.internal.InProcessSweep;

/**
 * Rows/s and model-load time of one sweep workload, in-process and on Spark masters, in one process so the numbers
 * are ratios taken on the same machine at the same time (bench/spark-sweep.sh runs it).
 *
 * <pre>java -cp 'bundles/spark-sweep/target/spark/jars/*' org.refusallab.spark.SweepBenchmark MODEL_DIR ROWS MAX_BATCH ROUNDS MASTER...</pre>
 *
 * The workload is a steering sweep: rows of random token ids (12 to 24 tokens), each with the refusal-direction-like
 * addition of a random vector at one layer and the metric at the last position as its read-out (one double back per
 * row). The in-process service (the study bundle's, on a model this JVM loads) is the baseline; each master gets a
 * fresh Spark context whose executors load their own model (none handed over). Per master: the first sweep (the
 * executors' model load and the engine's first plans included), then ROUNDS warm sweeps alternating in-process and
 * Spark, so both see the same load on a shared machine; the medians and their ratio are printed.
 *
 * <p>With {@code -Dbench.sequential=true} (for models of which the machine holds one copy only: gemma-2b's 10 GB of
 * float32 weights twice do not fit 24 GB) the in-process sweeps run first, ROUNDS warm ones after the first, then
 * the in-process model is closed before each master's executors load theirs; the rounds are then not interleaved,
 * so the ratio is only as good as the machine's quiet.
 */
public final class SweepBenchmark {

    private SweepBenchmark() { }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: SweepBenchmark MODEL_DIR ROWS MAX_BATCH ROUNDS MASTER...");
            System.exit(2);
        }
        Path dir = Path.of(args[0]).toAbsolutePath().normalize();
        int rows = Integer.parseInt(args[1]), maxBatch = Integer.parseInt(args[2]), rounds = Integer.parseInt(args[3]);
        String checksum = CheckpointDigest.sha256(dir);
        long t0 = System.nanoTime();
        GemmaModel model = Engine.load(dir, null);
        double inProcessLoad = (System.nanoTime() - t0) / 1e9;
        SweepService inProcess = new InProcessSweep(model);
        List<Row> work = rows(model.info().nLayers(), model.info().dModel(), model.info().vocabSize(), rows);
        SweepService.Options options = SweepService.Options.batches(maxBatch);
        long w0 = System.nanoTime();
        List<RowResult> reference = inProcess.run(work, options);
        System.out.printf("in-process: model load %.2f s (this JVM's first ND4J use included), first sweep %.2f s (engine plans built)%n",
                inProcessLoad, (System.nanoTime() - w0) / 1e9);
        boolean sequential = Boolean.getBoolean("bench.sequential");
        double[] sequentialLocal = new double[rounds];
        if (sequential) {
            for (int r = 0; r < rounds; r++) sequentialLocal[r] = timed(() -> inProcess.run(work, options));
            System.out.printf("in-process warm sweeps: %s s; model closed before Spark (-Dbench.sequential)%n", java.util.Arrays.toString(sequentialLocal));
            model.close();
            System.gc();
        }
        System.out.printf("%-26s %9s %9s %9s %9s %9s %10s %10s %8s %s%n", "master", "context s", "exec load", "sweep 1 s",
                "spark s", "in-proc s", "spark r/s", "in-proc r/s", "ratio", "max |diff|");
        for (int a = 4; a < args.length; a++) {
            String master = args[a];
            long c0 = System.nanoTime();
            try (SparkSweep spark = SparkSweep.open(master, dir, null, checksum, null)) {
                double context = (System.nanoTime() - c0) / 1e9;
                long s0 = System.nanoTime();
                List<RowResult> first = spark.run(work, options);
                double sweep1 = (System.nanoTime() - s0) / 1e9;
                SparkSweep.RunStats stats = spark.lastRun();
                double load = stats.modelLoads() == 0 ? 0 : stats.modelLoadSeconds() / stats.modelLoads();
                double diff = maxDiff(reference, first);
                // warm rounds, alternating, so both see the same machine load; medians reported
                double[] sparkTimes = new double[rounds], localTimes = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    if (sequential) {
                        localTimes[r] = sequentialLocal[r];
                    } else {
                        localTimes[r] = timed(() -> inProcess.run(work, options));
                    }
                    long r0 = System.nanoTime();
                    diff = Math.max(diff, maxDiff(reference, spark.run(work, options)));
                    sparkTimes[r] = (System.nanoTime() - r0) / 1e9;
                }
                double sm = median(sparkTimes), lm = median(localTimes);
                System.out.printf("%-26s %9.2f %9.2f %9.2f %9.2f %9.2f %10.1f %10.1f %8.2f %.3g (%d executor loads, %d partitions, %d batches)%n",
                        master, context, load, sweep1, sm, lm, work.size() / sm, work.size() / lm, lm / sm, diff, stats.modelLoads(), stats.partitions(), stats.batches());
            }
        }
        if (!sequential) model.close();
    }

    private static double timed(Runnable work) {
        long t0 = System.nanoTime();
        work.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double maxDiff(List<RowResult> a, List<RowResult> b) {
        double d = 0;
        for (int i = 0; i < a.size(); i++) d = Math.max(d, Math.abs(a.get(i).metric() - b.get(i).metric()));
        return d;
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static List<Row> rows(int layers, int dModel, int vocab, int n) {
        Random rnd = new Random(16);
        float[][] directions = new float[layers][dModel];
        for (float[] d : directions) for (int i = 0; i < dModel; i++) d[i] = (float) rnd.nextGaussian() * 0.1f;
        RefusalMetric metric = new RefusalMetric(RefusalMetric.Kind.LOGIT, Math.min(vocab - 1, 300));
        List<Row> out = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            int[] t = new int[12 + rnd.nextInt(13)];
            t[0] = 2;
            for (int j = 1; j < t.length; j++) t[j] = 6 + rnd.nextInt(vocab - 6);
            int layer = rnd.nextInt(layers);
            out.add(Row.of(t).with(Ablation.addition(layer, directions[layer], 1f)).reading(ReadOut.metric(metric)));
        }
        return out;
    }
}
