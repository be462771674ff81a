package org.refusallab.study.internal;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.study.Study;
import org.refusallab.api.study.StudyService;
import org.refusallab.api.sweep.SweepService;

/** The study service: opens the study for one analysis run, its heavy work going through the sweep service. */
@Component(service = StudyService.class)
public final class StudyComponent implements StudyService {

    private final SweepService sweeps;

    @Activate
    public StudyComponent(@Reference SweepService sweeps) {
        this.sweeps = sweeps;
    }

    @Override
    public Study open(AnalysisContext context) {
        return new RunStudy(context, sweeps);
    }
}
