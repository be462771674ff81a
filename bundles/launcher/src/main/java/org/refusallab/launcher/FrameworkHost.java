package org.refusallab.launcher;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.felix.framework.FrameworkFactory;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.hooks.weaving.WeavingHook;
import org.osgi.framework.launch.Framework;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;
import org.refusallab.platform.exitguard.ExitGuardWeaver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded Felix framework: its properties (runtime-config/framework.properties plus the class-path exports),
 * the infrastructure bundles (SCR, Configuration Admin, fileinstall, optionally the Gogo shell), and the study's
 * built-in bundles named by {@code refusallab.bundles}.
 */
public final class FrameworkHost implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FrameworkHost.class);
    public static final String BUNDLES = "refusallab.bundles";
    public static final String TIMEOUT = "refusallab.analysis.timeoutSeconds";
    private static final List<String> INFRASTRUCTURE = List.of("org.osgi.util.function", "org.osgi.util.promise",
            "org.osgi.service.component", "org.apache.felix.scr", "org.apache.felix.configadmin");
    private static final List<String> SHELL = List.of("org.apache.felix.gogo.runtime", "org.apache.felix.gogo.command",
            "org.apache.felix.gogo.shell");

    /**
     * @param home              folder relative paths are resolved against (the repository top)
     * @param work              scratch folder (framework cache, default deploy folder)
     * @param configDir         runtime-config/
     * @param frameworkBundles  folder holding the infrastructure bundle jars
     * @param fileinstall       watch the deploy folder
     * @param shell             start the Gogo shell on the console
     * @param overrides         framework properties that win over framework.properties (tests)
     */
    public record Options(Path home, Path work, Path configDir, Path frameworkBundles, boolean fileinstall, boolean shell,
                          Map<String, String> overrides) { }

    private final Framework framework;
    private final Map<String, String> properties;
    private final Path deployDir;
    private final List<String> problems = new ArrayList<>();
    private final DeployProblems deployProblems;

    private FrameworkHost(Framework framework, Map<String, String> properties, Path deployDir) {
        this.framework = framework;
        this.properties = properties;
        this.deployDir = deployDir;
        this.deployProblems = new DeployProblems(framework.getBundleContext(), deployDir);
    }

    public static FrameworkHost start(Options o) throws IOException, BundleException {
        Map<String, String> props = properties(o);
        long t0 = System.nanoTime();
        props.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, ClassPathPackages.header(ClassPathPackages.forBundles(ClassPathPackages.ofJvmClassPath())));
        LOG.debug("class-path exports computed in {} ms", (System.nanoTime() - t0) / 1_000_000);
        Path deploy = Path.of(props.get("felix.fileinstall.dir"));
        Files.createDirectories(deploy);

        Framework fw = new FrameworkFactory().newFramework(props);
        fw.init();
        fw.start();
        FrameworkHost host = new FrameworkHost(fw, props, deploy);
        // before any bundle loads a class: System.exit and friends in analysis bundles fail the analysis instead
        fw.getBundleContext().registerService(WeavingHook.class, new ExitGuardWeaver(), new Hashtable<>(Map.of("name", "refusal-lab exit guard")));
        try {
            List<String> infra = new ArrayList<>(INFRASTRUCTURE);
            if (o.fileinstall()) infra.add("org.apache.felix.fileinstall");
            if (o.shell()) infra.addAll(SHELL);
            List<Bundle> started = new ArrayList<>();
            for (String name : infra) started.add(host.install(frameworkBundle(o.frameworkBundles(), name)));
            for (Path jar : builtInBundles(o.home(), props.getOrDefault(BUNDLES, ""), host.problems)) {
                started.add(host.install(jar));
            }
            for (Bundle b : started) host.startQuietly(b);
        } catch (IOException | BundleException | RuntimeException e) {
            host.close();
            throw e;
        }
        return host;
    }

    static Map<String, String> properties(Options o) throws IOException {
        Map<String, String> props = new LinkedHashMap<>();
        Path file = o.configDir().resolve("framework.properties");
        if (Files.exists(file)) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(file)) {
                p.load(r);
            }
            for (String k : p.stringPropertyNames()) props.put(k, p.getProperty(k).trim());
        }
        props.putAll(o.overrides());
        Map<String, String> vars = Map.of("refusallab.home", o.home().toString(), "refusallab.work", o.work().toString(),
                "user.home", System.getProperty("user.home"));
        props.replaceAll((k, v) -> substitute(v, vars, file));
        props.putIfAbsent(Constants.FRAMEWORK_STORAGE, o.work().resolve("felix-cache").toString());
        props.putIfAbsent(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        props.putIfAbsent("felix.fileinstall.dir", o.work().resolve("deploy").toString());
        props.putIfAbsent("felix.fileinstall.poll", "1000");
        props.putIfAbsent("felix.fileinstall.noInitialDelay", "true");
        // two bundles may share a name and version (the runner then picks the most recently installed)
        props.putIfAbsent("org.osgi.framework.bsnversion", "multiple");
        props.putIfAbsent("felix.log.level", "1");
        props.computeIfPresent("felix.fileinstall.dir", (k, v) -> o.home().resolve(v).normalize().toString());
        return props;
    }

    private static final Pattern VAR = Pattern.compile("\\$\\{([^}]+)}");

    private static String substitute(String value, Map<String, String> vars, Path file) {
        Matcher m = VAR.matcher(value);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String v = vars.get(m.group(1));
            if (v == null) v = System.getProperty(m.group(1));
            if (v == null) throw new IllegalArgumentException(file + ": unknown variable ${" + m.group(1) + "} in '" + value + "'");
            m.appendReplacement(sb, Matcher.quoteReplacement(v));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static Path frameworkBundle(Path dir, String symbolicName) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("framework bundles folder " + dir + " not found (build the launcher: mvn -DskipTests install)");
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(symbolicName + "-") && p.toString().endsWith(".jar"))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("framework bundle " + symbolicName + " missing from " + dir));
        }
    }

    /**
     * Jars matching the comma-separated globs (relative to home) that are bundles; a glob that matches nothing is
     * noted (not an error: a module may not be built yet).
     */
    static List<Path> builtInBundles(Path home, String globs, List<String> problems) throws IOException {
        List<Path> out = new ArrayList<>();
        for (String glob : globs.split(",")) {
            glob = glob.trim();
            if (glob.isEmpty()) continue;
            int firstWild = indexOfWildcard(glob);
            String fixed = firstWild < 0 ? glob : glob.substring(0, glob.lastIndexOf('/', firstWild) + 1);
            Path root = home.resolve(fixed).normalize();
            PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + home.resolve(glob).normalize());
            List<Path> matched = new ArrayList<>();
            if (Files.exists(root)) {
                try (Stream<Path> walk = Files.walk(root, 6)) {
                    walk.filter(matcher::matches).filter(FrameworkHost::isBundleJar).sorted(Comparator.naturalOrder()).forEach(matched::add);
                }
            }
            if (matched.isEmpty()) {
                problems.add("no bundle matches " + glob + " (refusallab.bundles in framework.properties; not built yet?)");
                LOG.warn("no bundle matches {}", glob);
            }
            out.addAll(matched);
        }
        return out;
    }

    private static int indexOfWildcard(String glob) {
        for (int i = 0; i < glob.length(); i++) if ("*?[{".indexOf(glob.charAt(i)) >= 0) return i;
        return -1;
    }

    static boolean isBundleJar(Path p) {
        String n = p.getFileName().toString();
        if (!n.endsWith(".jar") || n.endsWith("-sources.jar") || n.endsWith("-tests.jar") || n.endsWith("-javadoc.jar")) return false;
        try (JarFile jf = new JarFile(p.toFile())) {
            return jf.getManifest() != null && jf.getManifest().getMainAttributes().getValue("Bundle-SymbolicName") != null;
        } catch (IOException e) {
            return false;
        }
    }

    public Bundle install(Path jar) throws BundleException {
        return context().installBundle(jar.toUri().toString());
    }

    private void startQuietly(Bundle b) {
        if (b.getHeaders().get(Constants.FRAGMENT_HOST) != null) return;
        try {
            b.start();
        } catch (BundleException e) {
            // one broken bundle must not stop the others: DeployProblems names it (with the reason) in the report
            LOG.warn("bundle {} {} did not start: {}", b.getSymbolicName(), b.getVersion(), e.getMessage());
        }
    }

    /**
     * Waits until every jar in the deploy folder is an active bundle and every .cfg/.config file is a configuration,
     * i.e. fileinstall has caught up (used by "run", which must not start before the dropped-in analyses are there).
     */
    public void awaitDeployFolder(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ServiceTracker<ConfigurationAdmin, ConfigurationAdmin> cm = new ServiceTracker<>(context(), ConfigurationAdmin.class, null);
        cm.open();
        try {
            while (true) {
                List<String> missing = pendingDeployments(cm.getService());
                if (missing.isEmpty()) return;
                if (System.nanoTime() > deadline) {
                    String msg = "deploy folder " + deployDir + ": not loaded after " + timeout.toSeconds() + " s: " + missing;
                    problems.add(msg);
                    LOG.warn(msg);
                    return;
                }
                Thread.sleep(100);
            }
        } finally {
            cm.close();
        }
    }

    /**
     * Deploy files fileinstall has not handled yet: bundle jars with no bundle installed from them, configuration files
     * not yet in Configuration Admin. A jar that is not a bundle, or a bundle that does not resolve or start, is not
     * pending: it will never become active, and {@link DeployProblems} reports it (no waiting for the timeout).
     */
    private List<String> pendingDeployments(ConfigurationAdmin cm) throws IOException {
        List<String> missing = new ArrayList<>();
        if (!Files.isDirectory(deployDir)) return missing;
        List<Path> files;
        try (Stream<Path> s = Files.list(deployDir)) {
            files = s.filter(p -> !p.getFileName().toString().startsWith(".")).toList();
        }
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.endsWith(".jar")) {
                if (DeployProblems.notABundle(f) != null) continue;
                boolean installed = false;
                for (Bundle b : context().getBundles()) {
                    if (!b.getLocation().endsWith("/" + name)) continue;
                    installed = true;
                    deployProblems.probe(b); // starts it if fileinstall has not yet; a failure is recorded with its reason
                }
                if (!installed) missing.add(name);
            } else if (name.endsWith(".cfg") || name.endsWith(".config")) {
                boolean loaded = false;
                try {
                    Configuration[] cs = cm == null ? null : cm.listConfigurations(null);
                    if (cs != null) {
                        for (Configuration c : cs) {
                            Object fn = c.getProperties() == null ? null : c.getProperties().get("felix.fileinstall.filename");
                            if (fn != null && fn.toString().endsWith("/" + name)) loaded = true;
                        }
                    }
                } catch (org.osgi.framework.InvalidSyntaxException e) {
                    throw new IllegalStateException(e);
                }
                if (!loaded) missing.add(name);
            }
        }
        return missing;
    }

    /**
     * fileinstall does not see a deploy folder that was removed and created again: restart it, so it scans the folder
     * afresh (called by watch when the folder comes back).
     */
    public void restartFileinstall() {
        for (Bundle b : context().getBundles()) {
            if (!"org.apache.felix.fileinstall".equals(b.getSymbolicName())) continue;
            try {
                b.stop(Bundle.STOP_TRANSIENT);
                b.start(Bundle.START_TRANSIENT);
                LOG.info("deploy folder {} is back: fileinstall restarted", deployDir);
            } catch (BundleException e) {
                problems.add("could not restart fileinstall after the deploy folder came back: " + e.getMessage());
            }
        }
    }

    public BundleContext context() {
        return framework.getBundleContext();
    }

    public Framework framework() {
        return framework;
    }

    public Path deployDir() {
        return deployDir;
    }

    public String property(String key, String fallback) {
        return properties.getOrDefault(key, fallback);
    }

    /**
     * Globs that matched nothing, deploy files not loaded in time, and the failed bundles as they are now (corrupt or
     * non-bundle jars in the deploy folder, bundles that do not resolve or start, with the reason): for the summary.
     */
    public List<String> problems() {
        List<String> all = new ArrayList<>(problems);
        all.addAll(deployProblems.current());
        return all;
    }

    @Override
    public void close() {
        try {
            framework.stop();
            framework.waitForStop(10_000);
        } catch (BundleException | InterruptedException e) {
            LOG.warn("framework did not stop cleanly: {}", e.toString());
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
        }
    }
}
