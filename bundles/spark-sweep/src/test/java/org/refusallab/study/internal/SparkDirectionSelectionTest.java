package org.refusallab.study.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.refusallab.api.study.DirectionCandidate;
import org.refusallab.api.study.RefusalMetric;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.SweepService;
import org.refusallab.spark.SparkSweepTest;

/** Direction fitting and selection (the study's DirectionFinder) through the Spark service equal the in-process ones. */
class SparkDirectionSelectionTest {

    @BeforeAll
    static void start() throws Exception {
        SparkSweepTest.start();
    }

    @AfterAll
    static void stop() {
        SparkSweepTest.stop();
    }

    @Test
    void theSameCandidatesScoresAndSelectedDirection() {
        var model = SparkSweepTest.model();
        SweepService spark = SparkSweepTest.spark(), local = new InProcessSweep(model);
        DirectionFinder.Sweep viaSpark = rows -> spark.run(rows, SweepService.Options.batches(6));
        DirectionFinder.Sweep inProcess = rows -> local.run(rows, SweepService.Options.batches(6));
        List<int[]> harmful = SparkSweepTest.prompts(4, 21), harmless = SparkSweepTest.prompts(4, 22);
        int n = model.info().nLayers(), k = 3;
        var expectedDiffs = DirectionFinder.meanDifferences(inProcess, n, harmful, harmless, k);
        var diffs = DirectionFinder.meanDifferences(viaSpark, n, harmful, harmless, k);
        for (int l = 0; l < n; l++) {
            for (int j = -k; j < 0; j++) assertArrayEquals(expectedDiffs.vector(l, j), diffs.vector(l, j), 1e-6f, "layer " + l + ", position " + j);
        }
        // the token with the largest mean logit on the harmless prompts, so candidates pass the induce filter (> 0)
        double[] mean = new double[model.info().vocabSize()];
        for (int[] t : harmless) {
            float[] l = local.run(List.of(Row.of(t).reading(ReadOut.logits())), SweepService.Options.batches(1)).get(0).logits(0);
            for (int i = 0; i < l.length; i++) mean[i] += l[i];
        }
        int token = 0;
        for (int i = 1; i < mean.length; i++) if (mean[i] > mean[token]) token = i;
        RefusalMetric metric = new RefusalMetric(RefusalMetric.Kind.LOGIT, token);
        var expected = DirectionFinder.select(inProcess, expectedDiffs, harmful, harmless, metric, 0.25, 10.0, Double.NaN);
        var got = DirectionFinder.select(viaSpark, diffs, harmful, harmless, metric, 0.25, 10.0, Double.NaN);
        assertEquals(expected.direction().layer(), got.direction().layer());
        assertEquals(expected.direction().position(), got.direction().position());
        assertArrayEquals(expected.direction().values(), got.direction().values(), 1e-6f);
        assertEquals(expected.candidates().size(), got.candidates().size());
        for (int c = 0; c < expected.candidates().size(); c++) {
            DirectionCandidate e = expected.candidates().get(c), g = got.candidates().get(c);
            assertEquals(e.layer(), g.layer());
            assertEquals(e.position(), g.position());
            assertEquals(e.passes(), g.passes());
            assertEquals(e.prunedLayer(), g.prunedLayer());
            assertClose(e.bypass(), g.bypass(), "bypass of candidate " + c);
            assertClose(e.induce(), g.induce(), "induce of candidate " + c);
            assertClose(e.kl(), g.kl(), "KL of candidate " + c);
        }
    }

    /** Equal to float precision; NaN (a pruned or zero candidate, not scored) only where expected. */
    private static void assertClose(double e, double g, String what) {
        if (Double.isNaN(e)) assertTrue(Double.isNaN(g), what + ": " + g);
        else assertEquals(e, g, 1e-6 * Math.max(1, Math.abs(e)), what);
    }
}
