package org.refusallab.platform.testbundles.oom;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.result.AnalysisResult;

/** Allocates 8 MB blocks and keeps them until the heap is exhausted (OutOfMemoryError). */
@Component(service = Analysis.class)
public class OomAnalysis implements Analysis {
    public String id() { return "oom"; }
    public String title() { return "Analysis that runs out of memory"; }
    public int order() { return 62; }
    public Map<String, String> parameters() { return Map.of(); }
    public AnalysisResult run(AnalysisContext ctx) {
        List<long[]> hoard = new ArrayList<>();
        while (true) hoard.add(new long[1 << 20]);
    }
}
