package org.refusallab.study.testing;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.Progress;
import org.refusallab.api.model.HookedModel;

/** An analysis context for tests: a model, flat parameters, a config folder and a shared map. */
public record TestContext(HookedModel model, Map<String, String> parameters, Path configDirectory, Map<String, Object> shared)
        implements AnalysisContext {

    public static TestContext of(HookedModel model, Path configDirectory, Map<String, String> parameters) {
        return new TestContext(model, new HashMap<>(parameters), configDirectory, new HashMap<>());
    }

    @Override
    public Progress progress() {
        return Progress.NONE;
    }

    @Override
    public boolean cancelled() {
        return false;
    }
}
