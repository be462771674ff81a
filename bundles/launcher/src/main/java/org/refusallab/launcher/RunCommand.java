package org.refusallab.launcher;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.refusallab.platform.Section;
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

    @Option(names = "--only", paramLabel = "ID", split = ",", description = "run only these analyses (comma-separated ids)")
    List<String> only;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path site = LabOptions.home().resolve(out == null ? Path.of("site") : out).normalize();
        Set<String> ids = only == null ? Set.of() : new LinkedHashSet<>(only);
        try (Lab lab = Lab.start(options.settings(true, false, null))) {
            return runAndPublish(lab, ids, site, spec.commandLine().getOut(), spec.commandLine().getErr());
        }
    }

    static int runAndPublish(Lab lab, Set<String> ids, Path site, java.io.PrintWriter out, java.io.PrintWriter err) throws Exception {
        List<Section> ran = lab.runAll(ids);
        lab.publish(site);
        for (Section s : ran) {
            out.printf("%-7s %-28s %6.1f s  %s%n", s.status(), s.id(), s.took() == null ? 0.0 : s.took().toMillis() / 1000.0,
                    s.failed() ? s.errorLine() : "");
        }
        lab.runner().problems().forEach(p -> err.println("refusal-lab: warning: " + p));
        lab.host().problems().forEach(p -> err.println("refusal-lab: warning: " + p));
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
