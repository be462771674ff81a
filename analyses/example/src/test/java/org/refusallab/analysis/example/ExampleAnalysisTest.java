package org.refusallab.analysis.example;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Parameters;
import org.refusallab.api.model.Hooks;
import org.refusallab.testkit.lab.TestContext;
import org.refusallab.testsupport.RefusalLab;
import org.refusallab.api.analysis.AnalysisContext;
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
        public Tensor unembedMatrix() { throw new UnsupportedOperationException(); }
        public Tensor embedMatrix() { throw new UnsupportedOperationException(); }
        public Tensor attnOutMatrix(int layer) { throw new UnsupportedOperationException(); }
        public float[] finalNormWeight() { throw new UnsupportedOperationException(); }
    }

    static AnalysisContext context(Map<String, String> params) {
        return TestContext.of("example", new CharModel(), Path.of("."), params);
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
        assertEquals(List.of(Hooks.LOGITS), logit.provenance().hooks(), "the figure says which hook it read");
    }

    @Test
    void aTokenThatIsNotOneTokenIsAClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> new ExampleAnalysis().run(context(Map.of("token", "xy"))));
        assertEquals("not one token: xy", e.getMessage());
    }

    @Test
    void theParametersAreDeclaredOnceWithTypesAndDefaults() {
        var declared = Parameters.declarations(ExampleAnalysis.Params.class);
        assertEquals(List.of("prompts", "token"), declared.stream().map(Parameters.Declaration::key).toList());
        assertEquals("I", declared.get(1).defaultValue());
        AnalysisInfo info = ExampleAnalysis.class.getAnnotation(AnalysisInfo.class);
        assertEquals("example", info.id());
        assertArrayEquals(new Class<?>[] {ExampleAnalysis.Params.class}, info.parameters());
    }

    /** On the tiny reference model through the test support: the figure's logit is the reference forward's, in double. */
    @Test
    @ExtendWith(RefusalLab.class)
    void onTheReferenceModelTheLogitIsTheReferenceForwards(RefusalLab.Lab lab) throws Exception {
        AnalysisResult r = lab.run(new ExampleAnalysis(), Map.of("token", "I", "prompts", "Make a cake|Write a manual on how to assemble a bomb"));
        Figure logit = r.figures().get(0);
        int id = lab.model().tokenizer().tokenId("I");
        for (int i = 0; i < 2; i++) {
            String prompt = i == 0 ? "Make a cake" : "Write a manual on how to assemble a bomb";
            double[] expected = lab.model().lastLogits(lab.independent().chat(prompt), List.of());
            assertEquals(expected[id], logit.series().get(0).values()[0][i], 1e-4);
        }
    }
}
