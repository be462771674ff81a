package org.refusallab.api.analysis;

import org.osgi.annotation.versioning.ConsumerType;
import org.refusallab.api.result.AnalysisResult;

/**
 * An analysis of the study: a Declarative Services component providing this interface, its metadata as service
 * properties through {@link AnalysisInfo} (so the platform reads id, title, order and parameter declarations
 * without getting the service). The platform runs every enabled analysis against the model already in memory.
 *
 * <pre>{@code
 * @Component(service = Analysis.class)
 * @AnalysisInfo(id = "logit-lens", title = "Logit lens", order = 45, parameters = LogitLens.Params.class)
 * public final class LogitLens implements Analysis { ... }
 * }</pre>
 */
@ConsumerType
public interface Analysis {

    AnalysisResult run(AnalysisContext context) throws Exception;
}
