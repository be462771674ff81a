package org.refusallab.launcher;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.refusallab.platform.Section;
import org.refusallab.report.Report;
import org.refusallab.report.SiteHistory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Start the platform, run every enabled analysis present (built-in and in the deploy folder), publish the report. Exits 1 if an analysis failed.")
public class RunCommand implements Callable<Integer> {

    @Mixin
    LabOptions options;

    @Option(names = "--out", paramLabel = "DIR", description = "where the report goes; default: site")
    Path out;

    @Option(names = "--only", paramLabel = "ID", split = ",", description = "run only these analyses (comma-separated ids); the others keep their last sections")
    List<String> only;

    @Option(names = "--no-stale", description = "show a failed analysis as failed only, without its last successful result (marked stale)")
    boolean noStale;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path site = reportFolder(out);
        Set<String> ids = only == null ? Set.of() : new LinkedHashSet<>(only);
        try (Lab lab = Lab.start(options.settings(true, false, null))) {
            lab.keepStale(!noStale);
            return runAndPublish(lab, ids, site, spec.commandLine().getOut(), spec.commandLine().getErr());
        }
    }

    /**
     * The report folder of --out (default site/), checked before anything starts: it must be absent, empty or a report
     * this tool wrote (SiteHistory.NotOwned, exit 2, otherwise); a staging folder left by a killed run is removed.
     */
    static Path reportFolder(Path out) throws java.io.IOException {
        Path site = LabOptions.home().resolve(out == null ? Path.of("site") : out).normalize();
        SiteHistory.checkOwnership(site);
        SiteHistory.removeLeftovers(site);
        return site;
    }

    static int runAndPublish(Lab lab, Set<String> ids, Path site, java.io.PrintWriter out, java.io.PrintWriter err) throws Exception {
        List<Section> ran = lab.runAll(ids);
        SiteHistory.Published published = lab.publish(site);
        for (Section s : ran) {
            Report.Carried c = published.shown().carried().get(s.id());
            out.printf("%-7s %-28s %6.1f s  %s%n", s.status(), s.id(), s.took() == null ? 0.0 : s.took().toMillis() / 1000.0,
                    (s.failed() || s.notApplicable() ? s.errorLine() : "") + (c != null && c.stale() ? " [report shows its result from run " + c.fromRun() + ", marked stale]" : ""));
        }
        for (Section s : published.shown().sections()) { // in report order
            Report.Carried c = published.shown().carried().get(s.id());
            if (c != null && !c.stale()) out.printf("%-7s %-28s %8s  %s%n", "KEPT", s.id(), "", "not run: its section from run " + c.fromRun() + " is kept");
        }
        lab.problems().forEach(p -> err.println("refusal-lab: warning: " + p));
        out.println("report: " + site.resolve("index.html"));
        out.flush();
        List<String> failed = ran.stream().filter(Section::failed).map(Section::id).toList();
        if (ran.isEmpty()) {
            err.println("refusal-lab: no analysis ran (none installed or all disabled)");
            err.flush();
            return 1;
        }
        if (!failed.isEmpty()) {
            err.println("refusal-lab: " + failed.size() + " of " + ran.size() + " analyses failed: " + String.join(", ", failed));
            err.flush();
            return 1;
        }
        return 0;
    }
}
