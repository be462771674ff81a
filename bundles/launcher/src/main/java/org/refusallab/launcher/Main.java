package org.refusallab.launcher;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The command line: {@code refusal-lab run | watch | ...}. */
public final class Main {

    /**
     * The subcommands of refusal-lab. To add one (e.g. the engine's org.refusallab.launcher.engine.CacheCommand, a
     * picocli {@code @Command} class, typically with {@code @Mixin LabOptions}), add its class to this list: one line.
     */
    static final List<Class<?>> SUBCOMMANDS = List.of(
            RunCommand.class,
            WatchCommand.class,
            org.refusallab.launcher.engine.CacheCommand.class,
            org.refusallab.launcher.engine.GenerateCommand.class,
            org.refusallab.launcher.engine.BenchCommand.class,
            org.refusallab.launcher.engine.StudyBenchCommand.class);

    @Command(name = "refusal-lab", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Mechanistic interpretability of refusal in Gemma chat models: runs the study's analyses and publishes the report.")
    static final class Top implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new CommandLine.ParameterException(new CommandLine(this), "say what to do: "
                    + String.join(", ", SUBCOMMANDS.stream().map(c -> c.getAnnotation(Command.class).name()).toList()));
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"refusal-lab " + (v == null ? "development build" : v)};
        }
    }

    private Main() { }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs a command line and returns the exit code: 0 fine, 1 failed, 2 bad usage (including an --out that is not the tool's). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        boolean verbose = Arrays.asList(args).contains("--verbose") || Arrays.asList(args).contains("-v");
        if (!verbose && System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        CommandLine cl = new CommandLine(new Top());
        for (Class<?> c : SUBCOMMANDS) cl.addSubcommand(c);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            err.println("refusal-lab: " + oneLine(ex));
            if (ex instanceof org.refusallab.report.SiteHistory.NotOwned) {
                err.flush();
                return 2; // a bad --out is a usage error
            }
            if (verbose) ex.printStackTrace(err);
            err.flush();
            return 1;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            String name = ex.getCommandLine().getCommandSpec().qualifiedName();
            err.println("refusal-lab: " + ex.getMessage() + " (see '" + name + " --help')");
            err.flush();
            return 2;
        });
        return cl.execute(args);
    }

    static String oneLine(Throwable ex) {
        String msg = ex.getMessage();
        String line = ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                ? String.valueOf(msg)
                : ex.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
        return line.lines().findFirst().orElse(line);
    }
}
