package org.refusallab.analysis.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.Progress;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.ModelInfo;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.model.TextTokenizer;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;

class ExampleAnalysisTest {

    /** Characters are tokens (id = char code, vocab 128); the logit of token v is ((v * sum of the prompt's ids) mod 11) / 2. */
    static final class CharModel implements HookedModel {
        static final int VOCAB = 128;

        public ModelInfo info() {
            return new ModelInfo("fake", "gemma", 1, 1, 1, 4, 4, 8, VOCAB, "float32", "float32", "tanh", 10000, 1e-6);
        }

        public TextTokenizer tokenizer() {
            return new TextTokenizer() {
                public int[] encode(String text) { return text.chars().map(c -> c % VOCAB).toArray(); }
                public String decode(int[] ids, boolean skip) { return new String(ids, 0, ids.length); }
                public int tokenId(String token) {
                    if (token.length() != 1) throw new IllegalArgumentException("not one token: " + token);
                    return token.charAt(0);
                }
                public String tokenString(int id) { return Character.toString(id); }
                public String chatPrompt(String instruction) { return instruction; }
            };
        }

        public ForwardResult run(ForwardRequest request) {
            int b = request.tokens().size();
            float[] logits = new float[b * VOCAB];
            for (int i = 0; i < b; i++) {
                long sum = 0;
                for (int t : request.tokens().get(i)) sum += t;
                for (int v = 0; v < VOCAB; v++) logits[i * VOCAB + v] = ((v * sum) % 11) / 2f;
            }
            return new ForwardResult(new Tensor(new long[] {b, VOCAB}, logits), Map.of(), new int[b], 0);
        }

        public List<int[]> generate(GenerationRequest request) { throw new UnsupportedOperationException(); }
        public Tensor unembeddingRows(int[] ids) { throw new UnsupportedOperationException(); }
        public float[] unembeddingMeanExcept(int[] ids) { throw new UnsupportedOperationException(); }
        public float[] unembeddingCosines(float[] d) { throw new UnsupportedOperationException(); }
        public Tensor unembeddingSingularValues() { throw new UnsupportedOperationException(); }
        public Tensor unembeddingRightSingularVectors() { throw new UnsupportedOperationException(); }
    }

    static AnalysisContext context(Map<String, String> params) {
        HookedModel model = new CharModel();
        Map<String, Object> shared = new HashMap<>();
        return new AnalysisContext() {
            public HookedModel model() { return model; }
            public Map<String, String> parameters() { return params; }
            public Path configDirectory() { return Path.of("."); }
            public Map<String, Object> shared() { return shared; }
            public Progress progress() { return Progress.NONE; }
            public boolean cancelled() { return false; }
        };
    }

    @Test
    void logitAndProbabilityMatchAnIndependentSoftmax() {
        AnalysisResult r = new ExampleAnalysis().run(context(Map.of("token", "x", "prompts", "ab| cde |f")));
        List<String> prompts = List.of("ab", "cde", "f");
        Figure logit = r.figures().get(0), prob = r.figures().get(1);
        assertEquals(prompts, logit.xLabels());
        for (int i = 0; i < prompts.size(); i++) {
            long sum = prompts.get(i).chars().sum();
            double expectedLogit = (('x' * sum) % 11) / 2.0;
            double z = 0;
            for (int v = 0; v < CharModel.VOCAB; v++) z += Math.exp(((v * sum) % 11) / 2.0);
            assertEquals(expectedLogit, logit.series().get(0).values()[0][i], 1e-6);
            assertEquals(100 * Math.exp(expectedLogit) / z, prob.series().get(0).values()[0][i], 1e-6);
            // rank: 1 + how many tokens score strictly higher
            long higher = 0;
            for (int v = 0; v < CharModel.VOCAB; v++) if (((v * sum) % 11) / 2.0 > expectedLogit) higher++;
            assertEquals(Long.toString(higher + 1), r.tables().get(0).rows().get(i).get(3));
        }
        assertEquals(50.0, prob.referenceLines().get(0).value());
    }

    @Test
    void aTokenThatIsNotOneTokenIsAClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> new ExampleAnalysis().run(context(Map.of("token", "xy"))));
        assertEquals("not one token: xy", e.getMessage());
    }
}
