package org.refusallab.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.refusallab.checkpoint.TestCheckpoints.assertMentions;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Gemma 2 ({@code model_type: gemma2}) configs and checkpoints: what is read, and the errors for what is not there. */
class Gemma2ConfigAndCheckpointTest {

    @TempDir
    Path tmp;

    /** google/gemma-2-2b-it's config.json (transformers 4.42): no layer_types, so the alternating rule applies. */
    private static final String GEMMA_2_2B_IT = """
            {"architectures": ["Gemma2ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "attn_logit_softcapping": 50.0, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": [1, 107],
             "final_logit_softcapping": 30.0, "head_dim": 256, "hidden_act": "gelu_pytorch_tanh",
             "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 2304, "initializer_range": 0.02,
             "intermediate_size": 9216, "max_position_embeddings": 8192, "model_type": "gemma2",
             "num_attention_heads": 8, "num_hidden_layers": 26, "num_key_value_heads": 4, "pad_token_id": 0,
             "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "sliding_window": 4096,
             "torch_dtype": "float32", "transformers_version": "4.42.4", "use_cache": true, "vocab_size": 256000}""";

    private Path write(String json) throws IOException {
        Path p = tmp.resolve("config.json");
        Files.writeString(p, json);
        return p;
    }

    private static Path fixtureCheckpoint() throws URISyntaxException {
        return Path.of(Gemma2ConfigAndCheckpointTest.class.getResource("/fixtures/tiny-gemma2/checkpoint/config.json").toURI()).getParent();
    }

    @Test
    void gemma2_2bItConfigWithoutLayerTypesAlternatesFromALocalLayer0() throws IOException {
        GemmaConfig c = GemmaConfigs.read(write(GEMMA_2_2B_IT));
        assertEquals(GemmaConfig.gemma2_2b(), c);
        assertEquals(List.of(true, false, true, false), c.gemma2().slidingLayers().subList(0, 4));
        assertEquals(13, c.gemma2().slidingLayers().stream().filter(s -> s).count());
        assertEquals(1.0 / 16, c.attentionScale());
    }

    @Test
    void tinyGemma2FixtureConfigWithLayerTypes() throws Exception {
        GemmaConfig c = GemmaConfigs.read(fixtureCheckpoint().resolve("config.json"));
        assertEquals(new GemmaConfig.Gemma2(4, List.of(true, false, true, false), 24, 2.0, 3.0), c.gemma2());
        assertEquals(GemmaConfig.Gelu.TANH, c.gelu());
        assertEquals(List.of(400, 64, 128, 4, 4, 2, 16), List.of(c.vocabSize(), c.hiddenSize(), c.intermediateSize(),
                c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim()));
        assertEquals(1 / Math.sqrt(24), c.attentionScale());
    }

    @Test
    void explicitLayerTypesWinOverTheAlternatingRule() throws IOException {
        GemmaConfig c = GemmaConfigs.read(write(GEMMA_2_2B_IT.replace("\"num_hidden_layers\": 26", "\"num_hidden_layers\": 3")
                .replace("\"sliding_window\": 4096", "\"sliding_window\": 4096, \"layer_types\": [\"full_attention\", \"full_attention\", \"sliding_attention\"]")));
        assertEquals(List.of(false, false, true), c.gemma2().slidingLayers());
    }

    @Test
    void nullSoftcapsMeanNone() throws IOException {
        GemmaConfig c = GemmaConfigs.read(write(GEMMA_2_2B_IT.replace("\"attn_logit_softcapping\": 50.0", "\"attn_logit_softcapping\": null")
                .replace("\"final_logit_softcapping\": 30.0", "\"final_logit_softcapping\": null")));
        assertEquals(0.0, c.gemma2().attnLogitSoftcap());
        assertEquals(0.0, c.gemma2().finalLogitSoftcap());
    }

    @ParameterizedTest
    @ValueSource(strings = {"sliding_window", "query_pre_attn_scalar", "attn_logit_softcapping", "final_logit_softcapping", "hidden_activation"})
    void aMissingGemma2FieldIsNamedWithTheFile(String field) throws IOException {
        String json = GEMMA_2_2B_IT.replaceAll("\"" + field + "\": [^,}]+,?", "");
        Path p = write(json);
        CheckpointException e = assertThrows(CheckpointException.class, () -> GemmaConfigs.read(p));
        assertMentions(e, p.toString(), "missing required field " + field);
    }

    @Test
    void unsupportedLayerTypesAndLengthsAreNamed() throws IOException {
        Path p = write(GEMMA_2_2B_IT.replace("\"num_hidden_layers\": 26", "\"num_hidden_layers\": 2")
                .replace("\"sliding_window\": 4096", "\"sliding_window\": 4096, \"layer_types\": [\"sliding_attention\", \"chunked_attention\"]"));
        assertMentions(assertThrows(CheckpointException.class, () -> GemmaConfigs.read(p)), p.toString(), "layer_types[1]", "chunked_attention");
        Path q = write(GEMMA_2_2B_IT.replace("\"sliding_window\": 4096", "\"sliding_window\": 4096, \"layer_types\": [\"sliding_attention\"]"));
        assertMentions(assertThrows(CheckpointException.class, () -> GemmaConfigs.read(q)), q.toString(), "layer_types", "26 entries");
        Path r = write(GEMMA_2_2B_IT.replace("\"use_cache\": true", "\"use_bidirectional_attention\": true"));
        assertMentions(assertThrows(CheckpointException.class, () -> GemmaConfigs.read(r)), r.toString(), "use_bidirectional_attention");
    }

    @Test
    void unknownModelTypeListsTheSupportedOnes() throws IOException {
        Path p = write(GEMMA_2_2B_IT.replace("\"model_type\": \"gemma2\"", "\"model_type\": \"gemma3_text\""));
        assertMentions(assertThrows(CheckpointException.class, () -> GemmaConfigs.read(p)), p.toString(),
                "unsupported model_type \"gemma3_text\"", "\"gemma\"", "\"gemma2\"");
    }

    @Test
    void theFixtureLoadsWithAllFourNormsPerBlock() throws Exception {
        LoadedCheckpoint ckpt = Checkpoint.load(fixtureCheckpoint());
        assertEquals(1 + 4 * 11 + 1, ckpt.weights().size());
        for (int l = 0; l < 4; l++) {
            for (String n : List.of(GemmaTensors.inputLayernorm(l), GemmaTensors.postAttentionLayernorm(l),
                    GemmaTensors.preFeedforwardLayernorm(l), GemmaTensors.postFeedforwardLayernorm(l))) {
                assertEquals(64, ckpt.weight(n).length(), n);
            }
        }
    }

    private static GemmaConfig tinyGemma2() {
        GemmaConfig g1 = TestCheckpoints.tinyConfig();
        return new GemmaConfig("gemma2", g1.vocabSize(), g1.hiddenSize(), g1.intermediateSize(), g1.numLayers(), g1.numHeads(),
                g1.numKvHeads(), g1.headDim(), g1.rmsNormEps(), g1.ropeTheta(), g1.gelu(), "float32", 2, 1, 0, 128,
                new GemmaConfig.Gemma2(3, List.of(true, false), 12, 20.0, 0));
    }

    @Test
    void writerAndLoaderRoundTripAGemma2Checkpoint() {
        GemmaConfig config = tinyGemma2();
        Map<String, INDArray> w = TestCheckpoints.randomWeights(config, 5);
        CheckpointWriter.write(tmp, config, w, StoredDtype.F32, 0);
        LoadedCheckpoint back = Checkpoint.load(tmp);
        assertEquals(config, back.config());
        w.forEach((name, a) -> assertEquals(a, back.weight(name), name));
    }

    @Test
    void aMissingExtraNormIsNamed() {
        GemmaConfig config = tinyGemma2();
        Map<String, INDArray> w = new LinkedHashMap<>(TestCheckpoints.randomWeights(config, 5));
        w.remove(GemmaTensors.postFeedforwardLayernorm(1));
        CheckpointWriter.write(tmp, config, w, StoredDtype.F32, 0);
        assertMentions(assertThrows(CheckpointException.class, () -> Checkpoint.load(tmp)),
                tmp.resolve("model.safetensors").toString(), "model.layers.1.post_feedforward_layernorm.weight", "missing");
    }

    @Test
    void aGemma1CheckpointLabelledGemma2LacksTheFeedForwardNorms() throws IOException {
        GemmaConfig g1 = TestCheckpoints.tinyConfig();
        CheckpointWriter.write(tmp, g1, TestCheckpoints.randomWeights(g1, 5), StoredDtype.F32, 0);
        TestCheckpoints.editJson(tmp.resolve("config.json"), c -> {
            c.put("model_type", "gemma2");
            c.put("sliding_window", 4);
            c.put("query_pre_attn_scalar", 12);
            c.put("attn_logit_softcapping", 50.0);
            c.put("final_logit_softcapping", 30.0);
        });
        assertMentions(assertThrows(CheckpointException.class, () -> Checkpoint.load(tmp)),
                "model.layers.0.pre_feedforward_layernorm.weight", "missing");
    }

    @Test
    void gemma2NormsInAGemma1CheckpointAreUnexpected() throws IOException {
        GemmaConfig config = tinyGemma2();
        CheckpointWriter.write(tmp, config, TestCheckpoints.randomWeights(config, 5), StoredDtype.F32, 0);
        TestCheckpoints.editJson(tmp.resolve("config.json"), c -> c.put("model_type", "gemma"));
        assertMentions(assertThrows(CheckpointException.class, () -> Checkpoint.load(tmp)),
                "unexpected tensor", "feedforward_layernorm", "Gemma 1");
    }
}
