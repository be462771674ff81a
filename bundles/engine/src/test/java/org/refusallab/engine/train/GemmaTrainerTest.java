package org.refusallab.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.testkit.DTensor;
import org.refusallab.testkit.GemmaReference;

/**
 * Training through the segmented graphs: the loss and its gradients agree with an independent double-precision
 * computation (the testkit's reference forward and central finite differences), the loss falls on a small variant
 * of the toy-model training, and a rerun with the same seed is identical.
 */
class GemmaTrainerTest {

    static final GemmaConfig TINY = new GemmaConfig("gemma", 24, 32, 64, 2, 2, 1, 16, 1e-6, 10000.0,
            GemmaConfig.Gelu.TANH, "float32", 2, 1, 0, 64);

    /** Prompt: 2, a, b; response: a+b mod 10 shifted into the vocabulary, then eos. Only the response is a target. */
    static List<GemmaTrainer.Example> data() {
        SplittableRandom rng = new SplittableRandom(3);
        List<GemmaTrainer.Example> out = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            int a = 4 + rng.nextInt(10), b = 4 + rng.nextInt(10);
            int len = 5 + (i % 3); // different lengths, so right padding is exercised
            int[] tokens = new int[len];
            boolean[] target = new boolean[len];
            tokens[0] = 2;
            tokens[1] = a;
            for (int k = 2; k < len - 2; k++) tokens[k] = b;
            tokens[len - 2] = 4 + ((a + b) % 10);
            tokens[len - 1] = 1;
            target[len - 2] = target[len - 1] = true;
            out.add(new GemmaTrainer.Example(tokens, target));
        }
        return out;
    }

    /** The masked next-token cross-entropy of the reference forward, in double. */
    static double referenceLoss(Map<String, INDArray> weights, List<GemmaTrainer.Example> batch) {
        Map<String, float[]> w = new LinkedHashMap<>();
        weights.forEach((k, v) -> w.put(k, v.dup().data().asFloat()));
        GemmaReference ref = new GemmaReference(TINY, w);
        double sum = 0;
        int count = 0;
        for (GemmaTrainer.Example e : batch) {
            DTensor logits = ref.run(List.of(e.tokens()), List.of()).logits(); // [1, pos, vocab]
            for (int t = 0; t + 1 < e.tokens().length; t++) {
                if (!e.target()[t + 1]) continue;
                double max = Double.NEGATIVE_INFINITY, z = 0;
                for (int v = 0; v < TINY.vocabSize(); v++) max = Math.max(max, logits.get(0, t, v));
                for (int v = 0; v < TINY.vocabSize(); v++) z += Math.exp(logits.get(0, t, v) - max);
                sum += -(logits.get(0, t, e.tokens()[t + 1]) - max - Math.log(z));
                count++;
            }
        }
        return sum / count;
    }

    @Test
    void lossAndGradientsMatchAnIndependentDoubleComputation() {
        var weights = GemmaTrainer.initialWeights(TINY, 11);
        weights.values().forEach(w -> { if (w.rank() == 1) w.assign(0.1); }); // non-zero norm weights
        List<GemmaTrainer.Example> batch = data().subList(0, 6);
        var seg = new GemmaTrainer.Segments(TINY, weights);
        Map<String, INDArray> grads = new HashMap<>();
        double loss = seg.lossAndGradients(batch, grads);
        assertEquals(referenceLoss(weights, batch), loss, 1e-4, "loss");
        String[][] probes = {{"model.layers.0.self_attn.q_proj.weight", "3", "5"}, {"model.layers.1.mlp.down_proj.weight", "7", "11"},
                {"model.embed_tokens.weight", "6", "2"}, {"model.layers.0.input_layernorm.weight", "4", null}, {"model.norm.weight", "9", null}};
        double h = 1e-2;
        for (String[] p : probes) {
            INDArray w = weights.get(p[0]);
            long[] at = p[2] == null ? new long[] {Long.parseLong(p[1])} : new long[] {Long.parseLong(p[1]), Long.parseLong(p[2])};
            float orig = w.getFloat(at);
            w.putScalar(at, orig + h);
            double up = referenceLoss(weights, batch);
            w.putScalar(at, orig - h);
            double down = referenceLoss(weights, batch);
            w.putScalar(at, orig);
            double numeric = (up - down) / (2 * h);
            double analytic = grads.get(p[0]).getDouble(at);
            assertEquals(numeric, analytic, 2e-3 + 2e-2 * Math.abs(numeric), "gradient of " + p[0] + Arrays.toString(at));
        }
    }

    @Test
    void lossFalls() {
        var result = GemmaTrainer.train(TINY, GemmaTrainer.initialWeights(TINY, 7), data(), new GemmaTrainer.Options(40, 16, 1e-2, 4, 7), null);
        double start = Arrays.stream(result.losses(), 0, 4).average().orElseThrow();
        double end = Arrays.stream(result.losses(), 36, 40).average().orElseThrow();
        assertTrue(start > Math.log(24) * 0.8, "initial loss near log(vocab): " + start);
        assertTrue(end < start * 0.75, "loss fell from " + start + " to " + end);
    }

    @Test
    void sameSeedSameTraining() {
        var opts = new GemmaTrainer.Options(6, 8, 1e-2, 2, 5);
        var first = GemmaTrainer.train(TINY, GemmaTrainer.initialWeights(TINY, 5), data(), opts, null);
        var second = GemmaTrainer.train(TINY, GemmaTrainer.initialWeights(TINY, 5), data(), opts, null);
        assertArrayEquals(first.losses(), second.losses(), 0.0);
        first.weights().forEach((k, v) -> assertEquals(v, second.weights().get(k), k));
    }
}
