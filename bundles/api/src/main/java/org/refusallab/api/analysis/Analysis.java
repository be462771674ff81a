package org.refusallab.api.analysis;

import org.refusallab.api.result.AnalysisResult;

/**
 * An analysis of the study, registered as an OSGi service (a Declarative Services component) by its bundle.
 * The platform runs every enabled analysis against the model already in memory and renders its result.
 */
public interface Analysis {

    /** Stable id, used for the report page, data files and configuration (e.g. {@code residual-patching}). */
    String id();

    String title();

    /** Place in the report: analyses are shown in ascending order, then by id. */
    int order();

    /** The parameters this analysis reads from its context, with their defaults, for the report and docs. */
    java.util.Map<String, String> parameters();

    AnalysisResult run(AnalysisContext context) throws Exception;
}
