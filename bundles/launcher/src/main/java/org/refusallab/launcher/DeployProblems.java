package org.refusallab.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.osgi.framework.BundleContext;
import org.refusallab.platform.BundleProblems;

/**
 * The failed bundles of a running platform, one line each, for the log, {@code run}'s warnings, {@code watch}'s
 * console and the report's summary: jars in the deploy folder that are not bundles (corrupt, or no manifest), bundles
 * that do not resolve or whose activator throws (with the framework's reason), and a deploy folder that is gone.
 * Analysis components that fail to activate are the runner's to report ({@code AnalysisRunner.problems()}).
 */
final class DeployProblems {

    static final String PREFIX = "failed bundle: ";
    private final BundleContext context;
    private final Path deployDir;
    private final BundleProblems bundles = new BundleProblems();

    DeployProblems(BundleContext context, Path deployDir) {
        this.context = context;
        this.deployDir = deployDir;
    }

    /** Every current problem, deploy-folder jars first. */
    List<String> current() {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(deployDir)) {
            out.add("deploy folder " + deployDir + " does not exist (removed?): the bundles it held were uninstalled;"
                    + " create it again to deploy bundles");
        } else {
            for (Path jar : jars(deployDir)) {
                String why = notABundle(jar);
                if (why != null) out.add(PREFIX + jar.getFileName() + " in " + deployDir + " " + why + ": not installed");
            }
        }
        try {
            for (String why : bundles.inactiveBundles(context)) out.add(PREFIX + why);
        } catch (IllegalStateException stopping) {
            // the framework is stopping: nothing more to say
        }
        return out;
    }

    /** Starts the bundle if it is not active; null if it runs, else why not (remembered per bundle revision). */
    String probe(org.osgi.framework.Bundle b) {
        return bundles.whyNotActive(b);
    }

    /** The jars fileinstall looks at (dot-names are still being copied). */
    static List<Path> jars(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".jar") && !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Null for a readable jar with a Bundle-SymbolicName; otherwise why fileinstall will not install it. */
    static String notABundle(Path jar) {
        try (JarFile jf = new JarFile(jar.toFile())) {
            Manifest m = jf.getManifest();
            if (m == null) return "has no manifest (not an OSGi bundle)";
            if (m.getMainAttributes().getValue("Bundle-SymbolicName") == null) return "is not an OSGi bundle (no Bundle-SymbolicName in its manifest)";
            return null;
        } catch (IOException e) {
            return "is not a readable jar (" + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")";
        }
    }
}
