package org.refusallab.api.analysis;

import java.util.Map;
import org.refusallab.api.model.HookedModel;

/** What an analysis gets to work with. */
public interface AnalysisContext {

    HookedModel model();

    /** The study configuration (runtime-config/study.json and this analysis's own parameters), flattened to strings. */
    Map<String, String> parameters();

    default String parameter(String key, String fallback) {
        return parameters().getOrDefault(key, fallback);
    }

    default int intParameter(String key, int fallback) {
        String v = parameters().get(key);
        try {
            return v == null ? fallback : Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("parameter " + key + " is not an integer: '" + v + "'");
        }
    }

    default double doubleParameter(String key, double fallback) {
        String v = parameters().get(key);
        try {
            return v == null ? fallback : Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("parameter " + key + " is not a number: '" + v + "'");
        }
    }

    /** Folder holding the study's data files (runtime-config/): prompt sets, saved directions. */
    java.nio.file.Path configDirectory();

    /** Results other analyses published earlier in this run (for example a fitted refusal direction), by key. */
    Map<String, Object> shared();

    Progress progress();

    /** True once the platform wants this analysis to stop (timeout, shutdown, bundle removed). */
    boolean cancelled();

    /** Throws {@link java.util.concurrent.CancellationException} if cancelled: call between batches. */
    default void checkCancelled() {
        if (cancelled()) throw new java.util.concurrent.CancellationException("analysis cancelled");
    }
}
