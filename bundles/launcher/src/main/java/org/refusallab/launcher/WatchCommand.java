package org.refusallab.launcher;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "watch", mixinStandardHelpOptions = true,
        description = {"Run everything once, then stay up with the model loaded: a bundle dropped into, replaced in or removed from the deploy folder",
                "(or a refusallab.analysis.<id>.cfg changed there) re-runs what changed and republishes within seconds.",
                "Gogo shell commands: lab:list, lab:run [id...], lab:publish; 'exit 0', Ctrl-D or Ctrl-C stops."})
public class WatchCommand implements Callable<Integer> {

    @Mixin
    LabOptions options;

    @Option(names = "--out", paramLabel = "DIR", description = "where the report goes; default: site")
    Path out;

    @Option(names = "--no-shell", description = "no Gogo shell on the console (for running in the background)")
    boolean noShell;

    @Option(names = "--only", paramLabel = "ID", split = ",", description = "run and re-run only these analyses (comma-separated ids)")
    java.util.List<String> only;

    @Option(names = "--no-stale", description = "show a failed analysis as failed only, without its last successful result (marked stale)")
    boolean noStale;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path site = RunCommand.reportFolder(out);
        Lab lab = Lab.start(options.settings(true, !noShell, null));
        lab.keepStale(!noStale);
        Thread hook = new Thread(lab::close, "refusal-lab-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            lab.registerShellCommands(site);
            Set<String> ids = only == null ? Set.of() : new java.util.LinkedHashSet<>(only);
            RunCommand.runAndPublish(lab, ids, site, spec.commandLine().getOut(), spec.commandLine().getErr());
            lab.watch(site, ids);
            spec.commandLine().getOut().println("watching " + lab.host().deployDir() + " (report: " + site.resolve("index.html") + ")");
            spec.commandLine().getOut().flush();
            lab.host().framework().waitForStop(0);
        } finally {
            lab.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down
            }
        }
        return 0;
    }
}
