package org.refusallab.launcher;

import java.nio.file.Path;
import java.util.Set;
import java.util.StringJoiner;
import org.refusallab.platform.AnalysisRunner;
import org.refusallab.platform.Section;

/**
 * Gogo shell commands of "watch": {@code lab:list}, {@code lab:run [id...]}, {@code lab:publish}. Gogo calls these
 * methods by name; runs go through the lab's single worker thread, like the watcher's.
 */
public final class LabCommands {

    private final Lab lab;
    private final Path out;

    LabCommands(Lab lab, Path out) {
        this.lab = lab;
        this.out = out;
    }

    /** The analyses present, the winner of each id, and how its last run went. */
    public String list() {
        AnalysisRunner.Resolution res = lab.runner().resolve();
        StringJoiner sj = new StringJoiner("\n");
        sj.add(String.format("%-6s %-28s %-8s %-10s %s", "order", "id", "status", "time (s)", "bundle"));
        for (AnalysisRunner.Candidate c : res.winners()) {
            Section s = lab.runner().sections().stream().filter(x -> x.id().equals(c.id())).findFirst().orElse(null);
            sj.add(String.format("%-6d %-28s %-8s %-10s %s", c.order(), c.id(), s == null ? "not run" : s.status(),
                    s == null || s.took() == null ? "" : String.format("%.1f", s.took().toMillis() / 1000.0), c.describe()));
        }
        // analyses that would not stop: they are still running, in the background, until they end
        for (var a : lab.runner().abandoned()) {
            sj.add(String.format("%-6s %-28s %-8s %-10s %s", "", a.analysisId(), "RUNNING", "",
                    "abandoned at " + a.since() + " (" + a.reason() + "); thread " + a.thread().getName() + " " + a.thread().getState()));
        }
        res.problems().forEach(p -> sj.add("! " + p));
        lab.host().problems().forEach(p -> sj.add("! " + p));
        return sj.toString();
    }

    /** Runs the named analyses (all when none is named) and republishes. */
    public String run(String... ids) throws Exception {
        var sections = lab.runAll(Set.of(ids));
        lab.publish(out);
        long failed = sections.stream().filter(Section::failed).count();
        return "ran " + sections.size() + " analyses, " + failed + " failed; report: " + out.resolve("index.html");
    }

    public String publish() throws Exception {
        lab.publish(out);
        return "report: " + out.resolve("index.html");
    }
}
