package org.refusallab.launcher.engine;

import java.nio.file.Path;
import org.refusallab.engine.GemmaModel;
import org.refusallab.launcher.LabOptions;
import org.refusallab.launcher.ModelLoader;
import picocli.CommandLine.Option;

/** --model and --gelu for the commands that talk to the engine directly (no OSGi framework). */
public class ModelOptions {

    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model folder; default: models/toy-gemma")
    Path model;

    @Option(names = "--gelu", paramLabel = "exact|tanh", description = "override the checkpoint's GELU approximation")
    String gelu;

    public GemmaModel load() {
        return ModelLoader.load(LabOptions.modelDir(model), gelu);
    }
}
