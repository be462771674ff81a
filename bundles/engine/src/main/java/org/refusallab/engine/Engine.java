package org.refusallab.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import org.nd4j.common.config.ND4JClassLoading;
import org.nd4j.linalg.factory.Nd4j;
import org.refusallab.api.model.TextTokenizer;
import org.refusallab.checkpoint.Checkpoint;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.LoadedCheckpoint;
import org.refusallab.tokenizer.HfTokenizer;

/** Loads a Hugging Face Gemma checkpoint folder into a {@link GemmaModel}. */
public final class Engine {

    private Engine() { }

    /**
     * ND4J captures its backend class loader once, from the thread context class loader; inside an OSGi bundle that
     * loader cannot see the backend. Pin it to ND4J's own loader before the first ND4J use.
     */
    public static void pinNd4jClassLoader() {
        ND4JClassLoading.setNd4jClassloaderFromClass(Nd4j.class);
    }

    /**
     * @param geluOverride "exact" or "tanh" to override what config.json implies, or null
     */
    public static GemmaModel load(Path modelDir, String geluOverride) {
        pinNd4jClassLoader();
        GemmaConfig.Gelu gelu = geluOverride == null ? null : GemmaConfig.Gelu.parse(geluOverride);
        LoadedCheckpoint ckpt = Checkpoint.load(modelDir, gelu);
        TextTokenizer tokenizer = Files.exists(modelDir.resolve("tokenizer.json")) ? HfTokenizer.load(modelDir) : null;
        return new GemmaModel(ckpt, tokenizer);
    }
}
