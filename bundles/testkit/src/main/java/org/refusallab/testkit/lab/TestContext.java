package org.refusallab.testkit.lab;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.Progress;
import org.refusallab.api.analysis.SharedResults;
import org.refusallab.api.model.HookedModel;

/**
 * An analysis context for tests: a model, parameters by the bare keys production uses ({@code threshold},
 * {@code study.maxBatch}), a config folder and the run's shared results.
 */
public record TestContext(String analysisId, HookedModel model, Map<String, String> parameters, Path configDirectory, SharedResults sharedResults)
        implements AnalysisContext {

    public static TestContext of(String analysisId, HookedModel model, Path configDirectory, Map<String, String> parameters) {
        return new TestContext(analysisId, model, new HashMap<>(parameters), configDirectory, new SharedResults());
    }

    /** The same run (shared results, config folder) for another analysis with other parameters. */
    public TestContext forAnalysis(String id, Map<String, String> params) {
        return new TestContext(id, model, new HashMap<>(params), configDirectory, sharedResults);
    }

    @Override
    public <T> T shared(String key, Class<T> type, Supplier<T> compute) {
        return sharedResults.get(key, type, compute);
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
