package org.refusallab.platform.testbundles.oom;

import java.util.ArrayList;
import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;

/** Allocates 8 MB blocks and keeps them until the heap is exhausted (OutOfMemoryError). */
@Component(service = Analysis.class)
@AnalysisInfo(id = "oom", title = "Analysis that runs out of memory", order = 62)
public class OomAnalysis implements Analysis {
    public AnalysisResult run(AnalysisContext ctx) {
        List<long[]> hoard = new ArrayList<>();
        while (true) hoard.add(new long[1 << 20]);
    }
}
