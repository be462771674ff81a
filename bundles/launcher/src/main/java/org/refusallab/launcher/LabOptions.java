package org.refusallab.launcher;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.refusallab.api.model.HookedModel;
import picocli.CommandLine.Option;

/**
 * Options every command that starts the platform shares ({@code @Mixin LabOptions options;}). Relative paths are
 * resolved against the repository top, which the ./refusal-lab script passes as -Drefusallab.home (else the working
 * directory).
 */
public class LabOptions {

    @Option(names = "--model", paramLabel = "DIR", description = "model folder (config.json, tokenizer.json, safetensors); default: models/toy-gemma")
    Path model;

    @Option(names = "--gelu", paramLabel = "exact|tanh", description = "override the checkpoint's GELU approximation")
    String gelu;

    @Option(names = "--config", paramLabel = "DIR", description = "study configuration folder; default: runtime-config")
    Path config;

    @Option(names = "--work", paramLabel = "DIR", description = "scratch folder (framework cache, default deploy folder); default: .work")
    Path work;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "default time limit per analysis (study.json timeoutSeconds wins); default: fitted to the model, 5 min + 1.5 s per million parameters")
    Long timeoutSeconds;

    @Option(names = "--spark", paramLabel = "MASTER", description = "run the study's sweeps on Apache Spark: local[N], local-cluster[E,C,MB] or a master URL (spark://host:port); default: in-process")
    String spark;

    @Option(names = {"-v", "--verbose"}, description = "stack traces on errors, progress of the platform logged (INFO)")
    boolean verbose;

    public static Path home() {
        return Path.of(System.getProperty("refusallab.home", ".")).toAbsolutePath().normalize();
    }

    public Path modelDir() {
        return modelDir(model);
    }

    /** A --model value resolved against the home folder; null means the shipped toy model. */
    public static Path modelDir(Path model) {
        return home().resolve(model == null ? Path.of("models", "toy-gemma") : model).normalize();
    }

    public Path configDir() {
        Path c = home().resolve(config == null ? Path.of("runtime-config") : config).normalize();
        if (!Files.isDirectory(c)) throw new IllegalArgumentException("configuration folder not found: " + c + " (pass --config DIR)");
        return c;
    }

    public Path workDir() {
        return home().resolve(work == null ? Path.of(".work") : work).normalize();
    }

    public String gelu() {
        if (gelu != null && !gelu.equals("exact") && !gelu.equals("tanh")) {
            throw new IllegalArgumentException("--gelu must be exact or tanh, got '" + gelu + "'");
        }
        return gelu;
    }

    /** Where the infrastructure bundles are: -Drefusallab.frameworkBundles, else framework-bundles/ beside the launcher jar. */
    static Path frameworkBundles() {
        String p = System.getProperty("refusallab.frameworkBundles");
        if (p != null) return Path.of(p);
        try {
            Path code = Path.of(LabOptions.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return code.getParent().resolve("framework-bundles");
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The settings of a lab started from these options; {@code model} is null unless a test supplies one. */
    public Lab.Settings settings(boolean fileinstall, boolean shell, HookedModel preloaded) {
        Map<String, String> overrides = new LinkedHashMap<>();
        if (timeoutSeconds != null) {
            if (timeoutSeconds <= 0) throw new IllegalArgumentException("--timeout must be positive, got " + timeoutSeconds);
            overrides.put(FrameworkHost.TIMEOUT, timeoutSeconds.toString());
        }
        return new Lab.Settings(home(), workDir(), configDir(), modelDir(), gelu(), frameworkBundles(), fileinstall, shell,
                overrides, preloaded, ConsoleProgress::new, spark);
    }
}
