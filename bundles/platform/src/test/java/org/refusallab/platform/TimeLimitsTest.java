package org.refusallab.platform;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.ModelInfo;

class TimeLimitsTest {

    static ModelInfo shapes(int layers, int heads, int kv, int d, int dHead, int mlp, int vocab) {
        return new ModelInfo("x", "gemma", layers, heads, kv, d, dHead, mlp, vocab, "float32", "float32", "tanh", 10000, 1e-6);
    }

    @Test
    void gemma2bHasItsKnownParameterCountAndAboutAnHourAndTenMinutes() {
        // google/gemma-2b: 2,506,172,416 parameters (Hugging Face's count for the checkpoint with tied embeddings)
        ModelInfo gemma2b = shapes(18, 8, 1, 2048, 256, 16384, 256000);
        assertEquals(2_506_172_416L, TimeLimits.parameters(gemma2b));
        assertEquals(Duration.ofMillis(300_000 + 3_759_259), TimeLimits.defaultFor(gemma2b));
    }

    @Test
    void toyGemmaGetsAboutFiveMinutes() {
        ModelInfo toy = shapes(6, 4, 1, 64, 16, 256, 1150);
        // by hand: embedding 1150*64 = 73,600; per block q+o 2*64*64 = 8,192, k+v 2*64*16 = 2,048, MLP 3*64*256 = 49,152,
        // norms 128: 59,520; six blocks 357,120; final norm 64
        assertEquals(73_600 + 357_120 + 64, TimeLimits.parameters(toy));
        assertEquals(300, TimeLimits.defaultFor(toy).toSeconds());
    }
}
