package org.refusallab.toymodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.checkpoint.Checkpoint;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.LoadedCheckpoint;
import org.refusallab.engine.train.GemmaTrainer;
import org.refusallab.tokenizer.HfTokenizer;

/** The toy-model training at a small size, and the model the repository ships. */
class ToyTrainingTest {

    static final Path SHIPPED = Path.of("../../models/toy-gemma");

    @Test
    void smallVariantOfTheToyTrainingLowersTheLoss(@TempDir Path dir) {
        ToyCorpus corpus = ToyCorpus.generate(ToyCorpus.DEFAULT_SEED);
        ToyTokenizerWriter.write(dir, corpus);
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            GemmaConfig cfg = TrainToyModel.config(tok.vocabSize(), 2, 32);
            List<GemmaTrainer.Example> data = TrainToyModel.examples(corpus, tok);
            // the loss covers the response only: the first target is the token right after "model\n"
            GemmaTrainer.Example first = data.get(0);
            int prompt = tok.encodeChat(corpus.train().get(0).instruction()).length;
            assertFalse(first.target()[prompt - 1]);
            assertTrue(first.target()[prompt]);
            assertEquals(tok.endOfTurnId(), first.tokens()[first.tokens().length - 1]);
            var result = GemmaTrainer.train(cfg, GemmaTrainer.initialWeights(cfg, 1), data, new GemmaTrainer.Options(24, 16, 5e-3, 3, 1), null);
            double start = Arrays.stream(result.losses(), 0, 4).average().orElseThrow();
            double end = Arrays.stream(result.losses(), 20, 24).average().orElseThrow();
            assertTrue(start > Math.log(tok.vocabSize()) * 0.8, "starts near log(vocab): " + start);
            assertTrue(end < 0.7 * start, "loss fell from " + start + " to " + end);
        }
    }

    @Test
    void shippedModelIsASmallGemmaThatRefusesHarmfulAndAnswersHarmless() throws Exception {
        LoadedCheckpoint ckpt = Checkpoint.load(SHIPPED);
        GemmaConfig c = ckpt.config();
        assertEquals("gemma", c.modelType());
        assertTrue(c.numLayers() >= 6 && c.numHeads() >= 4, "depth and heads for early/middle/late thirds");
        assertEquals(1, c.numKvHeads(), "multi-query attention, as gemma-2b");
        assertFalse(ckpt.weights().containsKey("lm_head.weight"), "tied embeddings");
        long bytes;
        try (var files = Files.list(SHIPPED)) {
            bytes = files.mapToLong(f -> f.toFile().length()).sum();
        }
        assertTrue(bytes < 20L << 20, "shipped folder under 20 MB: " + bytes);
        TrainToyModel.Evaluation eval = TrainToyModel.evaluate(SHIPPED, ToyCorpus.generate(ToyCorpus.DEFAULT_SEED));
        assertTrue(eval.harmfulRefused() >= 0.95, eval.summary());
        assertTrue(eval.harmlessRefused() <= 0.05, eval.summary());
        assertTrue(eval.seedPairsBehave(), eval.summary());
    }
}
