package org.refusallab.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.Tensor;
import org.refusallab.checkpoint.GemmaConfig;

/**
 * The reference against the activations Hugging Face transformers 5.17 computed for the tiny random Gemma 1 fixture
 * (copied from the shared fixtures into this module's test resources).
 */
class FixtureReproductionTest {

    /**
     * Allowed |reference - fixture| as a fraction of the tensor's largest |value|. The engine is held to 1e-4; the
     * reference lands within 7e-7 (float32 rounding in transformers), so 1e-5 here also rejects a tanh GELU (3e-5).
     */
    private static final double TOLERANCE = 1e-5;

    private static Path fixture;
    private static JsonNode reference;
    private static Map<String, Tensor> expected;
    private static GemmaReference model;

    @BeforeAll
    static void load() throws IOException, URISyntaxException {
        fixture = Path.of(FixtureReproductionTest.class.getResource("/fixtures/tiny-gemma").toURI());
        reference = new ObjectMapper().readTree(fixture.resolve("reference.json").toFile());
        expected = SafetensorsFile.read(fixture.resolve("reference.safetensors"));
        model = GemmaReference.load(fixture.resolve("checkpoint"));
    }

    @Test
    void configIsReadAsTransformersRunsIt() {
        GemmaConfig c = model.config();
        assertEquals(GemmaConfig.Gelu.EXACT, c.gelu(), "hidden_act gelu is the exact GELU in transformers 5");
        assertEquals(10000.0, c.ropeTheta(), "rope_parameters.rope_theta");
        assertEquals(List.of(512, 64, 256, 4, 4, 1, 16), List.of(c.vocabSize(), c.hiddenSize(), c.intermediateSize(),
                c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim()));
    }

    @Test
    void unpaddedBatchReproducesEveryTensor() {
        ReferenceRun run = model.forward(ints(reference.at("/cases/batch/input_ids")),
                ones(ints(reference.at("/cases/batch/input_ids"))), List.of());
        Map<String, Double> worst = compareCase("batch", run);
        System.out.println("tiny-gemma batch, worst |ref - HF| / max|HF| per hook kind: " + worst);
    }

    @Test
    void leftPaddedBatchReproducesEveryTensorAtRealPositions() {
        int[][] mask = ints(reference.at("/cases/padded/attention_mask"));
        ReferenceRun run = model.forward(ints(reference.at("/cases/padded/input_ids")), mask, List.of());
        assertArrayEquals(ints(reference.at("/cases/padded/position_ids")), run.positionIds());
        assertArrayEquals(new int[] {0, 3}, run.padding());
        Map<String, Double> worst = compareCase("padded", run);
        System.out.println("tiny-gemma padded (real positions), worst |ref - HF| / max|HF| per hook kind: " + worst);
    }

    @Test
    void greedyGenerationMatchesTransformers() {
        JsonNode greedy = reference.at("/cases/greedy");
        List<int[]> prompts = new ArrayList<>();
        for (int[] p : ints(greedy.get("prompt_ids"))) prompts.add(p);
        List<int[]> generated = model.generate(prompts, greedy.get("new_tokens").asInt(), List.of(), model.config().eosTokenId());
        int[][] want = ints(greedy.get("generated_ids"));
        for (int i = 0; i < want.length; i++) assertArrayEquals(want[i], generated.get(i), "row " + i);
    }

    @Test
    void tanhGeluMissesWhereExactGeluHits() {
        GemmaReference tanh = new GemmaReference(model.config().withGelu(GemmaConfig.Gelu.TANH),
                GemmaReference.flatten(SafetensorsFile.read(fixture.resolve("checkpoint/model.safetensors"))));
        int[][] ids = ints(reference.at("/cases/batch/input_ids"));
        Tensor hf = expected.get("batch.logits");
        double scale = DTensor.of(hf).maxAbs();
        double exactErr = model.forward(ids, ones(ids), List.of()).logits().maxAbsDiff(hf) / scale;
        double tanhErr = tanh.forward(ids, ones(ids), List.of()).logits().maxAbsDiff(hf) / scale;
        System.out.printf("logits relative error: exact GELU %.2e, tanh GELU %.2e%n", exactErr, tanhErr);
        assertTrue(tanhErr > 10 * exactErr, "the activation must matter: exact " + exactErr + ", tanh " + tanhErr);
    }

    /** Compares every fixture tensor of a case; returns the worst relative error per hook kind (layer stripped). */
    private static Map<String, Double> compareCase(String caseName, ReferenceRun run) {
        Map<String, Tensor> hf = new TreeMap<>();
        for (JsonNode n : reference.get("tensor_names")) {
            String name = n.asText();
            if (!name.startsWith(caseName + ".")) continue;
            String hook = name.substring(caseName.length() + 1);
            hf.put(hook, expected.get(name));
            assertArrayEquals(expected.get(name).shape(), run.hook(hook).toTensor().shape(), hook + " shape");
            assertTrue(run.maxAbsAtRealPositions(hook) > 0, hook + " is all zeros");
        }
        assertEquals(31, hf.size(), "tensors of case " + caseName);
        Map<String, Double> worst = new TreeMap<>();
        run.relativeErrors(hf).forEach((hook, rel) -> {
            assertTrue(rel <= TOLERANCE, caseName + " " + hook + ": relative error " + rel);
            worst.merge(hook.replaceFirst("^blocks\\.\\d+\\.", "blocks.L."), rel, Math::max);
        });
        return worst;
    }

    static int[][] ints(JsonNode rows) {
        int[][] out = new int[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            out[i] = new int[rows.get(i).size()];
            for (int j = 0; j < out[i].length; j++) out[i][j] = rows.get(i).get(j).asInt();
        }
        return out;
    }

    static int[][] ones(int[][] like) {
        int[][] m = new int[like.length][];
        for (int i = 0; i < like.length; i++) {
            m[i] = new int[like[i].length];
            java.util.Arrays.fill(m[i], 1);
        }
        return m;
    }
}
