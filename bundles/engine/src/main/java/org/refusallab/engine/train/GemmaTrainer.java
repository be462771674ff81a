package org.refusallab.engine.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.GemmaTensors;
import org.refusallab.engine.graph.GemmaGraph;
import org.refusallab.engine.graph.GemmaSegments;

/**
 * Next-token training of the engine's own Gemma graphs with SameDiff autodiff, seeded and reproducible.
 * The model runs as segments (see {@link GemmaGraph}); backpropagation chains them: the head's gradient with
 * respect to its input is fed to the last block as the upstream gradient of its vector-Jacobian loss, and so on
 * down to the embedding. The tied embedding collects gradient from both ends. Adam updates the weight arrays in
 * place, which the graphs share.
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
        Segments seg = new Segments(cfg, weights);
        Adam adam = new Adam(weights, opt);
        SplittableRandom rng = new SplittableRandom(opt.seed());
        double[] losses = new double[opt.steps()];
        for (int step = 0; step < opt.steps(); step++) {
            List<Example> batch = new ArrayList<>();
            for (int i = 0; i < opt.batchSize(); i++) batch.add(data.get(rng.nextInt(data.size())));
            Map<String, INDArray> grads = new HashMap<>();
            losses[step] = seg.lossAndGradients(batch, grads);
            adam.step(step, grads);
            // ND4J frees a step's off-heap arrays only when their Java objects are collected; the small heap
            // barely fills, so without this the process grew past 17 GB within 30 toy-model steps (measured).
            if (step % 4 == 3) System.gc();
            if (onStep != null) onStep.accept(step, losses[step]);
        }
        return new Result(weights, losses);
    }

    /** The trainable segment graphs and one forward/backward pass over them. */
    static final class Segments {
        final GemmaConfig cfg;
        final Map<String, INDArray> weights;
        final GemmaSegments inference;
        final SameDiff embedding, head;
        final SameDiff[] blocks;

        Segments(GemmaConfig cfg, Map<String, INDArray> weights) {
            this.cfg = cfg;
            this.weights = weights;
            GemmaGraph.Variant trainable = new GemmaGraph.Variant(false, true);
            this.inference = new GemmaSegments(cfg, weights);
            this.embedding = GemmaGraph.embedding(cfg, weights, trainable);
            this.head = GemmaGraph.head(cfg, weights, trainable);
            this.blocks = new SameDiff[cfg.numLayers()];
            for (int l = 0; l < blocks.length; l++) blocks[l] = GemmaGraph.block(cfg, weights, l, trainable);
        }

        /** Mean masked cross-entropy of the batch; gradients of every weight are added into {@code grads}. */
        double lossAndGradients(List<Example> batch, Map<String, INDArray> grads) {
            Batch b = Batch.of(batch, cfg.padTokenId());
            GemmaSegments.BlockInputs in = inference.blockInputs(b.positions(), b.causalBias());
            INDArray ids = Nd4j.createFromArray(b.ids());
            // forward, keeping each block's input
            INDArray x = embedding.output(Map.of(GemmaGraph.INPUT_IDS, ids), GemmaGraph.EMBED_OUT).get(GemmaGraph.EMBED_OUT);
            INDArray[] inputs = new INDArray[blocks.length];
            for (int l = 0; l < blocks.length; l++) {
                inputs[l] = x;
                x = withInput(blocks[l], x).output(inputsOf(in, null), GemmaGraph.blockOutput(l)).get(GemmaGraph.blockOutput(l));
            }
            // head: loss, and gradients for its weights and its input
            withInput(head, x);
            Map<String, INDArray> ph = new HashMap<>();
            ph.put(GemmaGraph.LABELS, Nd4j.createFromArray(b.labels()));
            ph.put(GemmaGraph.LOSS_MASK, Nd4j.createFromArray(b.mask()));
            ph.put(GemmaGraph.LAST_INDEX, Nd4j.createFromArray(new int[] {b.ids()[0].length - 1}));
            OutAndGrad og = head.calculateGradientsAndOutputs(ph, List.of(GemmaGraph.LOSS),
                    List.of(GemmaTensors.EMBED, GemmaTensors.FINAL_NORM, GemmaGraph.RESID_IN));
            double loss = og.getOutputs().get(GemmaGraph.LOSS).getDouble(0);
            accumulate(grads, og.getGradients(), GemmaTensors.EMBED, GemmaTensors.FINAL_NORM);
            INDArray upstream = og.getGradients().get(GemmaGraph.RESID_IN);
            // blocks, last to first: each pulls the upstream gradient back through itself
            for (int l = blocks.length - 1; l >= 0; l--) {
                withInput(blocks[l], inputs[l]);
                Map<String, INDArray> bph = inputsOf(in, upstream);
                List<String> wanted = new ArrayList<>(layerWeights(l));
                wanted.add(GemmaGraph.RESID_IN);
                Map<String, INDArray> g = blocks[l].calculateGradients(bph, wanted);
                accumulate(grads, g, layerWeights(l).toArray(new String[0]));
                upstream = g.get(GemmaGraph.RESID_IN);
            }
            Map<String, INDArray> eg = embedding.calculateGradients(Map.of(GemmaGraph.INPUT_IDS, ids, GemmaGraph.UPSTREAM_GRAD, upstream), GemmaTensors.EMBED);
            accumulate(grads, eg, GemmaTensors.EMBED);
            return loss;
        }

        /** Sets a trainable segment's input variable (an input is a variable there, see GemmaGraph.residIn). */
        static SameDiff withInput(SameDiff segment, INDArray x) {
            segment.getVariable(GemmaGraph.RESID_IN).setArray(x);
            return segment;
        }

        static Map<String, INDArray> inputsOf(GemmaSegments.BlockInputs in, INDArray upstream) {
            Map<String, INDArray> ph = new HashMap<>(Map.of(GemmaGraph.ROPE_COS, in.cos(), GemmaGraph.ROPE_SIN, in.sin(), GemmaGraph.ATTENTION_BIAS, in.bias()));
            if (upstream != null) ph.put(GemmaGraph.UPSTREAM_GRAD, upstream);
            return ph;
        }

        List<String> layerWeights(int l) {
            return List.of(GemmaTensors.inputLayernorm(l), GemmaTensors.qProj(l), GemmaTensors.kProj(l), GemmaTensors.vProj(l),
                    GemmaTensors.oProj(l), GemmaTensors.postAttentionLayernorm(l), GemmaTensors.gateProj(l),
                    GemmaTensors.upProj(l), GemmaTensors.downProj(l));
        }

        static void accumulate(Map<String, INDArray> into, Map<String, INDArray> from, String... names) {
            for (String n : names) {
                INDArray g = from.get(n);
                if (g == null) throw new IllegalStateException("no gradient for " + n);
                into.merge(n, g.dup(), INDArray::addi);
            }
        }
    }

    /** Right-padded inputs (causal masking makes trailing padding harmless) and next-token labels. */
    record Batch(int[][] ids, int[][] positions, int[][] labels, float[][] mask) {
        static Batch of(List<Example> batch, int padId) {
            int len = 0;
            for (Example e : batch) len = Math.max(len, e.tokens().length - 1);
            int b = batch.size();
            int[][] ids = new int[b][len], pos = new int[b][len], labels = new int[b][len];
            float[][] mask = new float[b][len];
            for (int r = 0; r < b; r++) {
                Example e = batch.get(r);
                for (int t = 0; t < len; t++) {
                    pos[r][t] = t;
                    boolean real = t + 1 < e.tokens().length;
                    ids[r][t] = t < e.tokens().length ? e.tokens()[t] : padId;
                    labels[r][t] = real ? e.tokens()[t + 1] : padId;
                    mask[r][t] = real && e.target()[t + 1] ? 1f : 0f;
                }
            }
            return new Batch(ids, pos, labels, mask);
        }

        float[] causalBias() {
            int b = ids.length, len = ids[0].length;
            float[] bias = new float[b * len * len];
            for (int r = 0; r < b; r++) {
                for (int t = 0; t < len; t++) {
                    for (int k = t + 1; k < len; k++) bias[(r * len + t) * len + k] = -1e9f;
                }
            }
            return bias;
        }
    }

    /** Adam (Kingma and Ba) with bias correction, on the shared weight arrays; linear warm-up, then linear decay over the last 30%. */
    static final class Adam {
        static final double BETA1 = 0.9, BETA2 = 0.98, EPS = 1e-8;
        final Map<String, INDArray> weights, m = new HashMap<>(), v = new HashMap<>();
        final Options opt;

        Adam(Map<String, INDArray> weights, Options opt) {
            this.weights = weights;
            this.opt = opt;
            weights.forEach((k, w) -> {
                m.put(k, Nd4j.zerosLike(w));
                v.put(k, Nd4j.zerosLike(w));
            });
        }

        double learningRate(int step) {
            int decayStart = (int) (opt.steps() * 0.7);
            double f = step < opt.warmupSteps() ? (step + 1.0) / opt.warmupSteps()
                    : step < decayStart ? 1.0 : Math.max(0.05, 1.0 - (step - decayStart) / (double) Math.max(1, opt.steps() - decayStart));
            return opt.learningRate() * f;
        }

        void step(int step, Map<String, INDArray> grads) {
            double lr = learningRate(step);
            double c1 = 1 - Math.pow(BETA1, step + 1), c2 = 1 - Math.pow(BETA2, step + 1);
            for (Map.Entry<String, INDArray> e : weights.entrySet()) {
                INDArray g = grads.get(e.getKey());
                if (g == null) throw new IllegalStateException("no gradient for " + e.getKey());
                INDArray mk = m.get(e.getKey()).muli(BETA1).addi(g.mul(1 - BETA1));
                INDArray vk = v.get(e.getKey()).muli(BETA2).addi(g.mul(g).muli(1 - BETA2));
                INDArray update = mk.div(c1).divi(Transforms.sqrt(vk.div(c2), false).addi(EPS)).muli(lr);
                e.getValue().subi(update);
            }
        }
    }
}
