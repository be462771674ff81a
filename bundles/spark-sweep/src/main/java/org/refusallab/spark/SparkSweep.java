package org.refusallab.spark;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.LongAccumulator;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;
import org.refusallab.api.sweep.SweepService;
import org.refusallab.checkpoint.CheckpointDigest;
import org.refusallab.study.internal.InProcessSweep;
import org.refusallab.study.internal.SweepBatches;

/**
 * The sweep service on Apache Spark. This JVM is the driver: it plans the batches exactly as the in-process service
 * does ({@link SweepBatches}: bucketed by length, at most maxBatch rows), spreads them over partitions, and each task
 * runs its batches with {@link InProcessSweep#runBatch} on its executor's model ({@link ExecutorModels}: loaded once
 * per executor JVM, checked against the driver's checkpoint digest). Results are small values (metrics, logits at a
 * position, reduced activations, token ids) and come back ordered by row id.
 *
 * <p>One task per executor JVM ({@code spark.task.cpus} = the executor's cores) and the engine's matrix products on
 * that many threads: a second concurrent task would share the model and the cores. See {@link #conf}.
 */
public final class SparkSweep implements SweepService, AutoCloseable {

    /** Spark configuration key: how many partitions a sweep's batches are spread over (default 2 x default parallelism). */
    public static final String PARTITIONS = "spark.refusallab.sweep.partitions";

    /** Called on the executor after each batch of a partition; tests use it to fail a task attempt part-way. */
    interface AfterBatch extends Serializable {
        void after(int partition, int attempt, int batchesDone);
    }

    /** The rows of one planned batch, shipped to an executor. */
    record Work(int[] ids, boolean generation, List<Row> rows) implements Serializable { }

    /** One batch's results, in its ids' order; {@code loadNanos} is set when this task had to load the model. */
    record Done(int[] ids, List<RowResult> results, long loadNanos) implements Serializable { }

    /** What the last {@link #run} did: batches, partitions, tasks that loaded a model and the time they took. */
    public record RunStats(int rows, int batches, int partitions, int modelLoads, double modelLoadSeconds) { }

    private final JavaSparkContext sc;
    private final ModelKey key;
    private final boolean ownsContext;
    private final AfterBatch afterBatch;
    private final int partitions;
    private final AtomicLong jobs = new AtomicLong();
    private volatile RunStats lastRun;

    /** @param partitions how many partitions a sweep uses (0: {@value #PARTITIONS}, else 2 x Spark's default parallelism) */
    SparkSweep(JavaSparkContext sc, ModelKey key, boolean ownsContext, AfterBatch afterBatch, int partitions) {
        this.sc = sc;
        this.key = key;
        this.ownsContext = ownsContext;
        this.afterBatch = afterBatch;
        this.partitions = partitions;
    }

    /** The same service on the same context, spreading each sweep over {@code n} partitions (at most one per batch). */
    public SparkSweep withPartitions(int n) {
        if (n < 1) throw new IllegalArgumentException("partitions must be >= 1, got " + n);
        return new SparkSweep(sc, key, false, afterBatch, n);
    }

    SparkSweep withAfterBatch(AfterBatch after) {
        return new SparkSweep(sc, key, false, after, partitions);
    }

    /**
     * Starts a Spark context for {@code master} (local[N], local-cluster[E,C,MB], spark://host:port, ...; other settings
     * from {@code spark.*} system properties, see {@link #conf}) and the sweep service on it.
     *
     * @param checksum    the checkpoint's {@link CheckpointDigest} (null: computed here)
     * @param driverModel the driver's already loaded model, handed to the executor in local mode instead of a second
     *                    copy (null: local executors load their own, like remote ones)
     */
    public static SparkSweep open(String master, Path checkpoint, String gelu, String checksum, HookedModel driverModel) throws IOException {
        Path dir = checkpoint.toAbsolutePath().normalize();
        ModelKey key = new ModelKey(dir.toString(), checksum != null ? checksum : CheckpointDigest.sha256(dir), gelu);
        SparkConf conf = conf(master);
        ClassLoader before = Thread.currentThread().getContextClassLoader();
        // Spark loads its classes and, in local mode, the executor's task classes through the context class loader
        Thread.currentThread().setContextClassLoader(SparkSweep.class.getClassLoader());
        JavaSparkContext sc;
        try {
            sc = new JavaSparkContext(new SparkContext(conf));
        } finally {
            Thread.currentThread().setContextClassLoader(before);
        }
        if (driverModel != null && sc.isLocal()) ExecutorModels.seed(key, driverModel);
        return new SparkSweep(sc, key, true, null, 0);
    }

    /** The local[N] or local[*] master pattern (without retries), local[N,F] (with), local-cluster[E,C,MB]. */
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:\\s*,\\s*(\\d+))?\\])?");
    private static final Pattern LOCAL_CLUSTER = Pattern.compile("local-cluster\\[\\s*(\\d+)\\s*,\\s*(\\d+)\\s*,\\s*(\\d+)\\s*\\]");

    /**
     * The Spark configuration of a sweep: {@code spark.*} system properties first (so -Dspark.executor.memory=...
     * works), then these defaults where not set:
     * <ul>
     * <li>{@code local[N]} runs as {@code local[N,4]}: Spark retries a failed task in local mode only when told to
     *     ({@code spark.task.maxFailures}, default 4, as on a cluster);</li>
     * <li>{@code spark.task.cpus} = the executor's cores (N for local[N], C for local-cluster[E,C,MB], else
     *     {@code spark.executor.cores}, default 1): one task per executor JVM;</li>
     * <li>executors' environment: {@code REFUSAL_LAB_BLAS_THREADS} = those cores, {@code OMP_NUM_THREADS=1},
     *     {@code OMP_WAIT_POLICY=PASSIVE} (the launcher's thread settings);</li>
     * <li>executors' JVM options: JavaCPP's native libraries unpacked into the executor's own working folder
     *     ({@code javacpp-cache}, no shared cache to race on), and, when {@code spark.executor.memoryOverhead} is set,
     *     JavaCPP's off-heap limit = that overhead (ND4J's tensors live off-heap: the overhead must hold the float32
     *     weights plus the activations of one batch);</li>
     * <li>the Spark UI off.</li>
     * </ul>
     */
    static SparkConf conf(String master) {
        SparkConf c = new SparkConf(true);
        int failures = c.getInt("spark.task.maxFailures", 4);
        Matcher local = LOCAL.matcher(master.trim());
        Matcher cluster = LOCAL_CLUSTER.matcher(master.trim());
        int cores;
        if (local.matches()) {
            String n = local.group(1) == null ? "1" : local.group(1);
            cores = n.equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(n);
            if (cores < 1) throw new IllegalArgumentException("Spark master " + master + ": at least one core");
            c.setMaster("local[" + n + "," + (local.group(2) == null ? failures : local.group(2)) + "]");
        } else if (cluster.matches()) {
            cores = Integer.parseInt(cluster.group(2));
            c.setMaster(master.trim());
            c.setIfMissing("spark.executor.cores", Integer.toString(cores));
            // local-cluster's in-process workers start executors from $SPARK_HOME/jars: this module's class path
            // (target/spark/jars), so SPARK_HOME must be target/spark (./refusal-lab sets it when unset)
            String home = System.getenv("SPARK_HOME");
            if (home == null || !Files.isDirectory(Path.of(home, "jars"))) {
                throw new IllegalArgumentException("Spark master " + master + " starts executor JVMs from $SPARK_HOME/jars; SPARK_HOME is "
                        + (home == null ? "not set" : home + ", which has no jars/ folder") + " (use bundles/spark-sweep/target/spark)");
            }
            c.setIfMissing("spark.executorEnv.SPARK_SCALA_VERSION", "2.12");
        } else {
            c.setMaster(master.trim());
            c.setIfMissing("spark.executor.cores", "1");
            cores = c.getInt("spark.executor.cores", 1);
        }
        c.setIfMissing("spark.app.name", "refusal-lab sweeps");
        c.setIfMissing("spark.ui.enabled", "false");
        c.setIfMissing("spark.task.cpus", Integer.toString(cores));
        c.setIfMissing("spark.executorEnv.REFUSAL_LAB_BLAS_THREADS", Integer.toString(cores));
        c.setIfMissing("spark.executorEnv.OMP_NUM_THREADS", "1");
        c.setIfMissing("spark.executorEnv.OMP_WAIT_POLICY", "PASSIVE");
        StringBuilder opts = new StringBuilder(c.get("spark.executor.extraJavaOptions", ""));
        opts.append(" -Dorg.bytedeco.javacpp.cachedir=javacpp-cache -Dorg.bytedeco.javacpp.cachedir.nosubdir=true");
        if (c.contains("spark.executor.memoryOverhead")) {
            long overheadMb = c.getSizeAsMb("spark.executor.memoryOverhead");
            long heapMb = c.getSizeAsMb("spark.executor.memory", "1g");
            opts.append(" -Dorg.bytedeco.javacpp.maxbytes=").append(overheadMb).append("M")
                    .append(" -Dorg.bytedeco.javacpp.maxphysicalbytes=").append(overheadMb + heapMb).append("M");
        }
        c.set("spark.executor.extraJavaOptions", opts.toString().trim());
        return c;
    }

    public JavaSparkContext context() {
        return sc;
    }

    public ModelKey modelKey() {
        return key;
    }

    public RunStats lastRun() {
        return lastRun;
    }

    @Override
    public List<RowResult> run(List<Row> rows, Options options) {
        List<SweepBatches.Batch> plan = SweepBatches.plan(rows, options.maxBatch());
        RowResult[] out = new RowResult[rows.size()];
        if (plan.isEmpty()) return Arrays.asList(out);
        List<Work> work = plan.stream().map(b -> new Work(b.ids(), b.generation(), b.rows(rows))).toList();
        int parts = Math.min(work.size(), Math.max(1, partitions > 0 ? partitions : sc.getConf().getInt(PARTITIONS, 2 * sc.defaultParallelism())));
        LongAccumulator batchesDone = sc.sc().longAccumulator("refusal-lab sweep batches");
        ModelKey k = key;
        AfterBatch after = afterBatch;
        String group = "refusal-lab-sweep-" + jobs.incrementAndGet();
        ClassLoader before = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(SparkSweep.class.getClassLoader());
        options.progress().start("sweep batches of " + rows.size() + " rows on Spark (" + sc.master() + ")", plan.size());
        List<Done> done;
        try {
            sc.setJobGroup(group, "refusal-lab sweep of " + rows.size() + " rows", true);
            JavaFutureAction<List<Done>> job = sc.parallelize(work, parts)
                    .mapPartitions(it -> runPartition(it, k, after, batchesDone))
                    .collectAsync();
            done = await(job, batchesDone, options);
        } finally {
            sc.clearJobGroup();
            Thread.currentThread().setContextClassLoader(before);
            options.progress().done();
        }
        int loads = 0;
        long loadNanos = 0;
        for (Done d : done) {
            for (int i = 0; i < d.ids().length; i++) out[d.ids()[i]] = d.results().get(i);
            if (d.loadNanos() > 0) {
                loads++;
                loadNanos += d.loadNanos();
            }
        }
        for (int i = 0; i < out.length; i++) {
            if (out[i] == null) throw new IllegalStateException("Spark returned no result for row " + i);
        }
        lastRun = new RunStats(rows.size(), plan.size(), parts, loads, loadNanos / 1e9);
        return Arrays.asList(out);
    }

    /** Waits for the job, stepping the progress bar as tasks finish and cancelling it when the analysis is cancelled. */
    private static List<Done> await(JavaFutureAction<List<Done>> job, LongAccumulator batchesDone, Options options) {
        long shown = 0;
        while (true) {
            try {
                return job.get(200, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                long now = batchesDone.value();
                if (now > shown) {
                    options.progress().step(now - shown);
                    shown = now;
                }
                if (options.cancelled().getAsBoolean()) {
                    job.cancel(true);
                    throw new CancellationException("sweep cancelled");
                }
            } catch (InterruptedException e) {
                job.cancel(true);
                Thread.currentThread().interrupt();
                throw new CancellationException("sweep interrupted");
            } catch (ExecutionException e) {
                throw failure(e.getCause());
            }
        }
    }

    /** A failed job as the error its rows caused (a bad position stays an IllegalArgumentException), else as it is. */
    private static RuntimeException failure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof IllegalArgumentException iae) return new IllegalArgumentException(iae.getMessage(), t);
        }
        return new IllegalStateException("the sweep's Spark job failed: " + t.getMessage(), t);
    }

    /** On the executor: the partition's batches on this JVM's model. */
    static Iterator<Done> runPartition(Iterator<Work> it, ModelKey key, AfterBatch after, LongAccumulator batchesDone) {
        ExecutorModels.Got got = ExecutorModels.get(key);
        TaskContext task = TaskContext.get();
        List<Done> out = new ArrayList<>();
        long load = got.loadedNow() ? got.held().loadNanos() : 0;
        while (it.hasNext()) {
            Work w = it.next();
            out.add(new Done(w.ids(), got.held().sweep().runBatch(w.rows(), w.generation()), out.isEmpty() ? load : 0));
            if (after != null) after.after(task.partitionId(), task.attemptNumber(), out.size());
        }
        batchesDone.add(out.size());
        return out.iterator();
    }

    @Override
    public void close() {
        if (!ownsContext) return; // a withPartitions/withAfterBatch view of a service that owns the context
        ExecutorModels.forget(key);
        sc.stop();
    }
}
