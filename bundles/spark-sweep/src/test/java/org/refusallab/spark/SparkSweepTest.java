package org.refusallab.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.spark.TaskKilled;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Intervention;
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
 * The Spark service in local[2] against the in-process service on the same checkpoint (tiny-gemma): the same rows
 * give the same floats, whatever the partitioning, and a killed task is re-run without changing them. The executor
 * loads its own copy of the model (nothing handed over from the driver), as a remote executor would.
 */
public class SparkSweepTest {

    static final Path CHECKPOINT = Path.of("target/test-classes/fixtures/tiny-gemma/checkpoint").toAbsolutePath();
    static JavaSparkContext sc;
    static SparkSweep spark;
    static GemmaModel model;
    static SweepService inProcess;

    @BeforeAll
    public static void start() throws Exception {
        model = Engine.load(CHECKPOINT, null);
        inProcess = new InProcessSweep(model);
        sc = new JavaSparkContext(SparkSweep.conf("local[2]"));
        spark = new SparkSweep(sc, new ModelKey(CHECKPOINT.toString(), CheckpointDigest.sha256(CHECKPOINT), null), false, null, 0);
    }

    public static GemmaModel model() {
        return model;
    }

    public static SparkSweep spark() {
        return spark;
    }

    @AfterAll
    public static void stop() {
        if (spark != null) spark.close();
        if (sc != null) sc.stop();
        if (model != null) model.close();
        sc = null;
        spark = null;
        model = null;
    }

    /** Token ids of a bos-led sequence of random length (so the plan pads and buckets). */
    public static List<int[]> prompts(int n, long seed) {
        Random rnd = new Random(seed);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] t = new int[6 + rnd.nextInt(6)];
            t[0] = 2;
            for (int j = 1; j < t.length; j++) t[j] = 6 + rnd.nextInt(500);
            out.add(t);
        }
        return out;
    }

    /** Residual-stream patching: each base row patched at one layer and position from its source row's activation. */
    static List<Row> patchingRows(SweepService sweeps) {
        int layers = model.info().nLayers();
        List<int[]> base = prompts(5, 1), source = new ArrayList<>();
        for (int[] b : base) { // a source of the same length: the base with its middle tokens changed
            int[] s = b.clone();
            for (int j = 2; j < s.length - 1; j++) s[j] = (s[j] * 7 + 3) % 500 + 6;
            source.add(s);
        }
        List<Row> sourceRows = new ArrayList<>();
        for (int[] s : source) {
            Row r = Row.of(s);
            for (int l = 0; l < layers; l++) r = r.reading(ReadOut.activationAll(Hooks.residPre(l)));
            sourceRows.add(r);
        }
        List<RowResult> acts = sweeps.run(sourceRows, SweepService.Options.batches(3));
        RefusalMetric metric = new RefusalMetric(RefusalMetric.Kind.LOG_ODDS, 7);
        List<Row> rows = new ArrayList<>();
        for (int p = 0; p < base.size(); p++) {
            for (int l = 0; l < layers; l++) {
                for (int pos = -3; pos <= -1; pos++) {
                    rows.add(Row.of(base.get(p)).with(Intervention.at(Hooks.residPre(l)).positions(pos).replaceWith(acts.get(p).activation(l)))
                            .reading(ReadOut.metric(metric), ReadOut.logits(1), ReadOut.projection(Hooks.residPost(l), new int[] {-1}, randomVector(l))));
                }
            }
        }
        return rows;
    }

    static float[] randomVector(long seed) {
        Random rnd = new Random(seed);
        float[] v = new float[model.info().dModel()];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }

    static void assertSame(List<RowResult> expected, List<RowResult> got) {
        assertEquals(expected.size(), got.size());
        for (int i = 0; i < expected.size(); i++) {
            List<Object> e = expected.get(i).values(), g = got.get(i).values();
            assertEquals(e.size(), g.size(), "read-outs of row " + i);
            for (int k = 0; k < e.size(); k++) {
                Object a = e.get(k), b = g.get(k);
                String where = "row " + i + ", read-out " + k;
                if (a instanceof Double x) assertEquals(x, (Double) b, 1e-6 * Math.max(1, Math.abs(x)), where);
                else if (a instanceof float[] x) assertArrayEquals(x, (float[]) b, 1e-6f * Math.max(1, max(x)), where);
                else if (a instanceof int[] x) assertArrayEquals(x, (int[]) b, where);
                else if (a instanceof double[][] x) {
                    for (int r = 0; r < x.length; r++) assertArrayEquals(x[r], ((double[][]) b)[r], 1e-5, where);
                } else if (a instanceof org.refusallab.api.model.Tensor x) {
                    assertArrayEquals(x.shape(), ((org.refusallab.api.model.Tensor) b).shape(), where);
                    assertArrayEquals(x.data(), ((org.refusallab.api.model.Tensor) b).data(), 1e-6f * Math.max(1, max(x.data())), where);
                } else fail("unexpected read-out " + a.getClass() + " at " + where);
            }
        }
    }

    static float max(float[] x) {
        float m = 0;
        for (float v : x) m = Math.max(m, Math.abs(v));
        return m;
    }

    @Test
    void aPatchingSweepGivesTheInProcessResultsAndLoadsTheModelOncePerExecutor() {
        List<Row> rows = patchingRows(inProcess);
        List<RowResult> expected = inProcess.run(rows, SweepService.Options.batches(8));
        List<RowResult> got = spark.run(rows, SweepService.Options.batches(8));
        assertSame(expected, got);
        assertTrue(spark.lastRun().partitions() > 1, "spread over partitions: " + spark.lastRun());
        assertEquals((rows.size() + 7) / 8, spark.lastRun().batches());
        // the same rows again: the executor's model is kept
        assertSame(expected, spark.run(rows, SweepService.Options.batches(8)));
        assertEquals(0, spark.lastRun().modelLoads(), "a second sweep loads no model: " + spark.lastRun());
    }

    @Test
    void resultsDoNotDependOnTheNumberOfPartitions() {
        List<Row> rows = patchingRows(inProcess);
        List<RowResult> one = spark.withPartitions(1).run(rows, SweepService.Options.batches(5));
        for (int parts : new int[] {3, 16}) {
            SparkSweep s = spark.withPartitions(parts);
            List<RowResult> got = s.run(rows, SweepService.Options.batches(5));
            assertEquals(Math.min(parts, s.lastRun().batches()), s.lastRun().partitions());
            assertSame(one, got);
        }
        assertSame(inProcess.run(rows, SweepService.Options.batches(5)), one);
    }

    @Test
    void batchedGenerationGivesTheInProcessTokens() {
        List<int[]> prompts = prompts(7, 3);
        float[] r = randomVector(11);
        List<Intervention> ablate = Ablation.directional(model.info().nLayers(), r);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            Row row = Row.of(prompts.get(i));
            if (i % 2 == 1) row = row.with(ablate);
            if (i % 3 == 2) row = row.with(Ablation.addition(1, r, 0.5f));
            rows.add(row.reading(ReadOut.generation(5)));
        }
        List<RowResult> expected = inProcess.run(rows, SweepService.Options.batches(3));
        List<RowResult> got = spark.withPartitions(2).run(rows, SweepService.Options.batches(3));
        assertSame(expected, got);
        for (RowResult g : got) assertTrue(g.generated(0).length >= 1);
    }

    @Test
    void aTaskKilledOnceIsRunAgainAndTheResultsAreUnchanged() throws Exception {
        List<Row> rows = patchingRows(inProcess);
        List<RowResult> expected = inProcess.run(rows, SweepService.Options.batches(4));
        ConcurrentLinkedQueue<String> ends = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Long> killed = new ConcurrentLinkedQueue<>();
        SparkListener killer = new SparkListener() {
            @Override
            public void onTaskStart(SparkListenerTaskStart start) {
                if (start.taskInfo().index() == 0 && start.taskInfo().attemptNumber() == 0 && killed.isEmpty()) {
                    killed.add(start.taskInfo().taskId());
                    sc.sc().killTaskAttempt(start.taskInfo().taskId(), true, "killed by the test");
                }
            }

            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                ends.add(end.taskInfo().index() + "/" + end.taskInfo().attemptNumber() + ":"
                        + (end.reason() instanceof TaskKilled ? "killed" : end.taskInfo().successful() ? "ok" : end.reason().toString()));
            }
        };
        sc.sc().addSparkListener(killer);
        try {
            // partition 0's first attempt waits after its first batch (interruptibly) so the kill lands mid-task
            SparkSweep slow = spark.withAfterBatch((partition, attempt, done) -> {
                if (partition == 0 && attempt == 0 && done == 1) {
                    try {
                        Thread.sleep(20_000);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException("interrupted", e);
                    }
                }
            }).withPartitions(3);
            List<RowResult> got = slow.run(rows, SweepService.Options.batches(4));
            assertSame(expected, got);
        } finally {
            sc.sc().removeSparkListener(killer);
        }
        sc.sc().listenerBus().waitUntilEmpty();
        assertEquals(1, killed.size());
        assertTrue(ends.contains("0/0:killed"), "task 0's first attempt was killed: " + ends);
        assertTrue(ends.contains("0/1:ok"), "and its second attempt succeeded: " + ends);
    }

    @Test
    void aBadRowIsAnIllegalArgumentAndAWrongCheckpointIsNamed() {
        Row bad = Row.of(new int[] {2, 9, 10}).reading(ReadOut.logits(7));
        var e = assertThrows(IllegalArgumentException.class, () -> spark.withPartitions(1).run(List.of(bad), SweepService.Options.batches(2)));
        assertTrue(e.getMessage().contains("position 7 outside a row of 3 tokens"), e.getMessage());

        SparkSweep wrong = new SparkSweep(sc, new ModelKey(CHECKPOINT.toString(), "0123", null), false, null, 1);
        var w = assertThrows(IllegalStateException.class, () -> wrong.run(List.of(Row.of(new int[] {2, 9}).reading(ReadOut.logits())), SweepService.Options.batches(2)));
        assertTrue(w.getMessage().contains("the driver's has 0123"), w.getMessage());
    }
}
