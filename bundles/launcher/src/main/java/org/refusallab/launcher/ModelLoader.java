package org.refusallab.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import org.refusallab.engine.Engine;
import org.refusallab.engine.GemmaModel;

/** Loads the model once per process through the engine, with the launcher's checks on the folder and options. */
public final class ModelLoader {

    private ModelLoader() { }

    /**
     * The analyses all need the tokenizer: run and watch check for it before anything runs (without it every analysis
     * would fail). Engine commands given token ids (cache --ids) do not.
     */
    public static void requireTokenizer(Path modelDir) {
        Path tokenizer = modelDir.resolve("tokenizer.json");
        if (Files.isDirectory(modelDir) && (!Files.isRegularFile(tokenizer) || !Files.isReadable(tokenizer))) {
            throw new IllegalArgumentException("model directory " + modelDir + " has no readable tokenizer.json");
        }
    }

    public static GemmaModel load(Path modelDir, String gelu) {
        if (!Files.isDirectory(modelDir)) {
            throw new IllegalArgumentException("model directory not found: " + modelDir + " (pass --model DIR)");
        }
        if (!Files.exists(modelDir.resolve("config.json"))) {
            throw new IllegalArgumentException("model directory " + modelDir + " has no config.json");
        }

        if (gelu != null && !gelu.equals("exact") && !gelu.equals("tanh")) {
            throw new IllegalArgumentException("--gelu must be exact or tanh, got '" + gelu + "'");
        }
        return Engine.load(modelDir, gelu);
    }
}
