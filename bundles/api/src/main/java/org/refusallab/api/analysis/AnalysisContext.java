package org.refusallab.api.analysis;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;
import org.osgi.annotation.versioning.ProviderType;
import org.refusallab.api.model.HookedModel;

/** What an analysis gets to work with (given by the platform, or by the test support in tests). */
@ProviderType
public interface AnalysisContext {

    /** The id of the analysis this context runs (for error messages and parameters). */
    String analysisId();

    HookedModel model();

    /**
     * Every parameter value as text, by key, after the one route the platform merges them by: the declarations'
     * defaults, then runtime-config/study.json {@code "parameters"}, then its {@code analyses.<id>.parameters},
     * then the Configuration Admin PID {@code refusallab.analysis.<id>}. Lists arrive as {@code a|b|c}.
     */
    Map<String, String> parameters();

    /** The parameters declared by an annotation type, typed and checked; a bad value names the analysis, key and value. */
    default <P> P parameters(Class<P> declaration) {
        return Parameters.bind(analysisId(), declaration, parameters());
    }

    /** Folder holding the study's data files (runtime-config/): prompt sets, saved directions. */
    Path configDirectory();

    /**
     * A result shared by the analyses of one run (e.g. the fitted refusal direction): computed by the first caller,
     * then returned to everyone; a failure is remembered and rethrown, not recomputed.
     */
    <T> T shared(String key, Class<T> type, Supplier<T> compute);

    Progress progress();

    /** True once the platform wants this analysis to stop (timeout, shutdown, bundle removed). */
    boolean cancelled();

    /** Throws {@link java.util.concurrent.CancellationException} if cancelled: call between batches. */
    default void checkCancelled() {
        if (cancelled()) throw new java.util.concurrent.CancellationException("analysis cancelled");
    }
}
