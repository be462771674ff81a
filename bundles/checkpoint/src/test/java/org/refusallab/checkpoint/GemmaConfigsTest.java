package org.refusallab.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GemmaConfigsTest {

    @TempDir
    Path tmp;

    private static final String BASE = """
            "vocab_size": 256000, "hidden_size": 2048, "intermediate_size": 16384, "num_hidden_layers": 18,
            "num_attention_heads": 8, "num_key_value_heads": 1, "rms_norm_eps": 1e-06,
            "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0, "max_position_embeddings": 8192""";

    private Path write(String json) throws IOException {
        Path p = tmp.resolve("config.json");
        Files.writeString(p, json);
        return p;
    }

    @Test
    void gemma2bItLayoutWithTopLevelRopeTheta() throws IOException {
        GemmaConfig c = GemmaConfigs.read(write("{\"model_type\": \"gemma\", " + BASE
                + ", \"head_dim\": 256, \"rope_theta\": 10000.0, \"hidden_act\": \"gelu\", \"torch_dtype\": \"bfloat16\"}"));
        assertEquals(GemmaConfig.gemma2b(), c);
    }

    @Test
    void ropeThetaFromEitherPlaceAndDefault() throws IOException {
        assertEquals(5000.0, GemmaConfigs.read(write("{\"model_type\": \"gemma\", " + BASE
                + ", \"rope_theta\": 5000.0}")).ropeTheta());
        assertEquals(7000.0, GemmaConfigs.read(write("{\"model_type\": \"gemma\", " + BASE
                + ", \"rope_parameters\": {\"rope_theta\": 7000.0, \"rope_type\": \"default\"}}")).ropeTheta());
        assertEquals(10000.0, GemmaConfigs.read(write("{\"model_type\": \"gemma\", " + BASE + "}")).ropeTheta());
    }

    @Test
    void headDimDefaultsToHiddenOverHeads() throws IOException {
        assertEquals(2048 / 8, GemmaConfigs.read(write("{\"model_type\": \"gemma\", " + BASE + "}")).headDim());
    }

    @Test
    void geluFromHiddenActivationElseTanh() throws IOException {
        assertEquals(GemmaConfig.Gelu.EXACT, GemmaConfigs.read(write("{\"model_type\": \"gemma\", " + BASE
                + ", \"hidden_act\": \"gelu_pytorch_tanh\", \"hidden_activation\": \"gelu\"}")).gelu());
        assertEquals(GemmaConfig.Gelu.TANH, GemmaConfigs.read(write("{\"model_type\": \"gemma\", " + BASE
                + ", \"hidden_activation\": \"gelu_pytorch_tanh\"}")).gelu());
        assertEquals(GemmaConfig.Gelu.TANH, GemmaConfigs.read(write("{\"model_type\": \"gemma\", " + BASE
                + ", \"hidden_act\": \"gelu\"}")).gelu());
        assertEquals(GemmaConfig.Gelu.TANH, GemmaConfigs.read(write("{\"model_type\": \"gemma\", " + BASE
                + ", \"hidden_activation\": null}")).gelu());
    }

    @Test
    void unsupportedModelTypeNamesFileAndValue() throws IOException {
        Path p = write("{\"model_type\": \"gemma3\", " + BASE + "}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> GemmaConfigs.read(p));
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("gemma3"), e.getMessage());
    }

    @Test
    void missingOrBadFieldsNameFileAndField() throws IOException {
        Path p = write("{\"model_type\": \"gemma\", \"hidden_size\": 64}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> GemmaConfigs.read(p));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("vocab_size"), e.getMessage());
        Path q = write("{\"model_type\": \"gemma\", " + BASE.replace("\"hidden_size\": 2048", "\"hidden_size\": -3") + "}");
        e = assertThrows(CheckpointException.class, () -> GemmaConfigs.read(q));
        assertTrue(e.getMessage().contains(q.toString()) && e.getMessage().contains("hidden_size"), e.getMessage());
        Path missing = tmp.resolve("nothing/config.json");
        e = assertThrows(CheckpointException.class, () -> GemmaConfigs.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }
}
