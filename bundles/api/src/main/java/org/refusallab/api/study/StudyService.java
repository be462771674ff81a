package org.refusallab.api.study;

import org.osgi.annotation.versioning.ProviderType;
import org.refusallab.api.analysis.AnalysisContext;

/** The study as an OSGi service: reference it from an analysis component and open it for each run. */
@ProviderType
public interface StudyService {

    Study open(AnalysisContext context);
}
