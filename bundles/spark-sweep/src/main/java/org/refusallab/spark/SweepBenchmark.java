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
 * <pre>java -cp 'bundles/spark-sweep/target/spark/jars/*' org.refusallab.spark.SweepBenchmark MODEL_DIR ROWS MAX_BATCH MASTER...</pre>
 *
 * The workload is a steering sweep: rows of random token ids (12 to 24 tokens), each with the refusal-direction-like
 * addition of a random vector at one layer and the metric at the last position as its read-out (one double back per
 * row). "in-process" is the study bundle's service on a model this JVM loads; each master gets a fresh Spark context
 * whose executors load their own model (none handed over). Each is timed over two sweeps: the first includes the
 * executors' model load and the engine's first plans, the second is warm.
 */
public final class SweepBenchmark {

    private SweepBenchmark() { }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: SweepBenchmark MODEL_DIR ROWS MAX_BATCH in-process|MASTER...");
            System.exit(2);
        }
        Path dir = Path.of(args[0]).toAbsolutePath().normalize();
        int rows = Integer.parseInt(args[1]), maxBatch = Integer.parseInt(args[2]);
        String checksum = CheckpointDigest.sha256(dir);
        List<Row> work = null;
        List<RowResult> reference = null;
        System.out.printf("%-28s %10s %10s %12s %12s %12s %s%n", "service", "context s", "load s", "sweep 1 s", "sweep 2 s", "rows/s (2)", "max |diff| vs in-process");
        for (int a = 3; a < args.length; a++) {
            String mode = args[a];
            long t0 = System.nanoTime();
            SweepService service;
            AutoCloseable closer;
            double context, load;
            GemmaModel model = null;
            if (mode.equals("in-process")) {
                model = Engine.load(dir, null);
                load = (System.nanoTime() - t0) / 1e9;
                context = 0;
                service = new InProcessSweep(model);
                closer = model;
            } else {
                SparkSweep s = SparkSweep.open(mode, dir, null, checksum, null);
                context = (System.nanoTime() - t0) / 1e9;
                load = Double.NaN;
                service = s;
                closer = s;
            }
            if (work == null) {
                GemmaModel m = model != null ? model : Engine.load(dir, null);
                work = rows(m.info().nLayers(), m.info().dModel(), m.info().vocabSize(), rows);
                if (m != model) m.close();
            }
            long s1 = System.nanoTime();
            List<RowResult> first = service.run(work, SweepService.Options.batches(maxBatch));
            double sweep1 = (System.nanoTime() - s1) / 1e9;
            String loads = "";
            if (service instanceof SparkSweep s) {
                load = s.lastRun().modelLoads() == 0 ? 0 : s.lastRun().modelLoadSeconds() / s.lastRun().modelLoads();
                loads = " (" + s.lastRun().modelLoads() + " executor loads, " + s.lastRun().partitions() + " partitions, " + s.lastRun().batches() + " batches)";
            }
            long s2 = System.nanoTime();
            List<RowResult> second = service.run(work, SweepService.Options.batches(maxBatch));
            double sweep2 = (System.nanoTime() - s2) / 1e9;
            if (reference == null) reference = second;
            double diff = 0;
            for (int i = 0; i < second.size(); i++) {
                diff = Math.max(diff, Math.abs(second.get(i).metric() - reference.get(i).metric()));
                diff = Math.max(diff, Math.abs(first.get(i).metric() - reference.get(i).metric()));
            }
            System.out.printf("%-28s %10.2f %10.2f %12.2f %12.2f %12.1f %.3g%s%n", mode, context, load, sweep1, sweep2, work.size() / sweep2, diff, loads);
            closer.close();
        }
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
