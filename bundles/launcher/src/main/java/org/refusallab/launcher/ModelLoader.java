package org.refusallab.launcher;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import org.refusallab.api.model.HookedModel;

/**
 * Loads the model through the engine's {@code org.refusallab.engine.Engine.load(Path modelDir, String geluOrNull)}.
 * Looked up by reflection so the launcher builds whether or not the engine has that entry point yet.
 */
public final class ModelLoader {

    static final String ENGINE = "org.refusallab.engine.Engine";

    private ModelLoader() { }

    public static HookedModel load(Path modelDir, String gelu) {
        if (!Files.isDirectory(modelDir)) {
            throw new IllegalArgumentException("model directory not found: " + modelDir + " (pass --model DIR)");
        }
        if (!Files.exists(modelDir.resolve("config.json"))) {
            throw new IllegalArgumentException("model directory " + modelDir + " has no config.json");
        }
        if (gelu != null && !gelu.equals("exact") && !gelu.equals("tanh")) {
            throw new IllegalArgumentException("--gelu must be exact or tanh, got '" + gelu + "'");
        }
        Method load;
        try {
            load = Class.forName(ENGINE).getMethod("load", Path.class, String.class);
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            throw new IllegalStateException("this build's engine has no " + ENGINE + ".load(Path, String)");
        }
        try {
            Object m = load.invoke(null, modelDir, gelu);
            if (!(m instanceof HookedModel hm)) throw new IllegalStateException(ENGINE + ".load returned " + m + ", not a HookedModel");
            return hm;
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) throw re;
            if (cause instanceof Error err) throw err;
            throw new IllegalStateException("cannot load the model from " + modelDir + ": " + cause.getMessage(), cause);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(ENGINE + ".load is not accessible", e);
        }
    }
}
