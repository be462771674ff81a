package org.refusallab.engine.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.linalg.schedule.MapSchedule;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.GemmaTensors;
import org.refusallab.engine.graph.GemmaGraph;

/**
 * Next-token training of the engine's own Gemma graph with SameDiff (Adam), seeded and reproducible. Used to train
 * the embedded toy model; it is generic over any {@link GemmaConfig}.
 */
public final class GemmaTrainer {

    private GemmaTrainer() { }

    /** A training sequence; the loss counts token t only where {@code target[t]} is true (e.g. the response). */
    public record Example(int[] tokens, boolean[] target) {
        public Example {
            if (tokens.length != target.length) throw new IllegalArgumentException("tokens and target mask differ in length");
            if (tokens.length < 2) throw new IllegalArgumentException("a training sequence needs at least 2 tokens");
        }
    }

    public record Options(int steps, int batchSize, double learningRate, int warmupSteps, long seed) { }

    public record Result(Map<String, INDArray> weights, double[] losses) { }

    /** Random initial weights: normal(0, 0.02) for matrices, zero for norm weights (Gemma scales by 1 + w). */
    public static Map<String, INDArray> initialWeights(GemmaConfig cfg, long seed) {
        Nd4j.getRandom().setSeed(seed);
        Map<String, INDArray> w = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : GemmaTensors.expectedShapes(cfg).entrySet()) {
            long[] shape = e.getValue();
            w.put(e.getKey(), shape.length == 1 ? Nd4j.zeros(DataType.FLOAT, shape) : Nd4j.randn(DataType.FLOAT, shape).muli(0.02));
        }
        return w;
    }

    /**
     * Trains from {@code init} (not modified) and returns the trained weights and the loss at every step.
     * @param onStep called with (step, loss) after every step, for progress output
     */
    public static Result train(GemmaConfig cfg, Map<String, INDArray> init, List<Example> data, Options opt, BiConsumer<Integer, Double> onStep) {
        if (data.isEmpty()) throw new IllegalArgumentException("no training examples");
        Map<String, INDArray> weights = new LinkedHashMap<>();
        init.forEach((k, v) -> weights.put(k, v.dup()));
        SameDiff sd = GemmaGraph.build(cfg, weights, new GemmaGraph.Variant(false, true));
        sd.setTrainingConfig(TrainingConfig.builder()
                .updater(new Adam(schedule(opt)))
                .dataSetFeatureMapping(GemmaGraph.INPUT_IDS, GemmaGraph.POSITION_IDS, GemmaGraph.ATTENTION_BIAS)
                .dataSetLabelMapping(GemmaGraph.LABELS, GemmaGraph.LOSS_MASK)
                .build());
        SplittableRandom rng = new SplittableRandom(opt.seed());
        double[] losses = new double[opt.steps()];
        for (int step = 0; step < opt.steps(); step++) {
            List<Example> batch = new ArrayList<>();
            for (int i = 0; i < opt.batchSize(); i++) batch.add(data.get(rng.nextInt(data.size())));
            double[] loss = new double[1];
            sd.fit(toMultiDataSet(batch, cfg.padTokenId()), new BaseListener() {
                @Override
                public boolean isActive(Operation operation) {
                    return operation == Operation.TRAINING;
                }

                @Override
                public void iterationDone(SameDiff s, At at, org.nd4j.linalg.dataset.api.MultiDataSet ds, Loss l) {
                    loss[0] = l.totalLoss();
                }
            });
            losses[step] = loss[0];
            if (onStep != null) onStep.accept(step, losses[step]);
        }
        Map<String, INDArray> trained = new LinkedHashMap<>();
        for (String name : weights.keySet()) trained.put(name, sd.getVariable(name).getArr().dup());
        return new Result(trained, losses);
    }

    /** Linear warm-up, then constant, then linear decay over the last 30% of steps. */
    private static ISchedule schedule(Options opt) {
        Map<Integer, Double> lr = new java.util.HashMap<>();
        int decayStart = (int) (opt.steps() * 0.7);
        for (int i = 0; i < opt.steps() + 1; i++) {
            double f = i < opt.warmupSteps() ? (i + 1.0) / opt.warmupSteps()
                    : i < decayStart ? 1.0 : Math.max(0.05, 1.0 - (i - decayStart) / (double) Math.max(1, opt.steps() - decayStart));
            lr.put(i, opt.learningRate() * f);
        }
        return new MapSchedule(ScheduleType.ITERATION, lr);
    }

    /** Right-padded inputs (positions 0..n-1; causal masking makes trailing padding harmless) and shifted labels. */
    static MultiDataSet toMultiDataSet(List<Example> batch, int padId) {
        int len = 0;
        for (Example e : batch) len = Math.max(len, e.tokens().length - 1);
        int b = batch.size();
        int[][] ids = new int[b][len], pos = new int[b][len], labels = new int[b][len];
        float[][] mask = new float[b][len];
        float[] bias = new float[b * len * len];
        for (int r = 0; r < b; r++) {
            Example e = batch.get(r);
            for (int t = 0; t < len; t++) {
                pos[r][t] = t;
                boolean real = t + 1 < e.tokens().length;
                ids[r][t] = t < e.tokens().length ? e.tokens()[t] : padId;
                labels[r][t] = real ? e.tokens()[t + 1] : padId;
                mask[r][t] = real && e.target()[t + 1] ? 1f : 0f;
                for (int k = 0; k < len; k++) bias[(r * len + t) * len + k] = k <= t ? 0f : -1e9f;
            }
        }
        INDArray[] features = {Nd4j.createFromArray(ids), Nd4j.createFromArray(pos), Nd4j.create(bias, new long[] {b, 1, len, len}, 'c')};
        INDArray[] targets = {Nd4j.createFromArray(labels), Nd4j.createFromArray(mask)};
        return new MultiDataSet(features, targets);
    }
}
