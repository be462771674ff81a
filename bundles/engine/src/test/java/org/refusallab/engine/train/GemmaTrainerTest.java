package org.refusallab.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.refusallab.checkpoint.GemmaConfig;

/** A small variant of the toy-model training: the loss must fall, and a rerun with the same seed is identical. */
class GemmaTrainerTest {

    static final GemmaConfig TINY = new GemmaConfig("gemma", 24, 32, 64, 2, 2, 1, 16, 1e-6, 10000.0,
            GemmaConfig.Gelu.TANH, "float32", 2, 1, 0, 64);

    /** Prompt: 2, a, b; response: a+b mod 10 shifted into the vocabulary, then eos. Only the response is a target. */
    static List<GemmaTrainer.Example> data() {
        SplittableRandom rng = new SplittableRandom(3);
        List<GemmaTrainer.Example> out = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            int a = 4 + rng.nextInt(10), b = 4 + rng.nextInt(10);
            int[] tokens = {2, a, b, 4 + ((a + b) % 10), 1};
            out.add(new GemmaTrainer.Example(tokens, new boolean[] {false, false, false, true, true}));
        }
        return out;
    }

    @Test
    void lossFallsAndTrainingIsReproducible() {
        var opts = new GemmaTrainer.Options(60, 16, 1e-2, 5, 7);
        var init = GemmaTrainer.initialWeights(TINY, 7);
        var first = GemmaTrainer.train(TINY, init, data(), opts, null);
        double start = Arrays.stream(first.losses(), 0, 5).average().orElseThrow();
        double end = Arrays.stream(first.losses(), 55, 60).average().orElseThrow();
        assertTrue(start > Math.log(24) * 0.8, "initial loss near log(vocab): " + start);
        assertTrue(end < start * 0.6, "loss fell from " + start + " to " + end);
        var second = GemmaTrainer.train(TINY, GemmaTrainer.initialWeights(TINY, 7), data(), opts, null);
        assertArrayEquals(first.losses(), second.losses(), 1e-6, "same seed, same losses");
    }
}
