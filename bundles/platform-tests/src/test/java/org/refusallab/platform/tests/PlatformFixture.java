package org.refusallab.platform.tests;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.hooks.weaving.WeavingHook;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.Progress;
import org.refusallab.api.model.HookedModel;
import org.refusallab.platform.AnalysisRunner;
import org.refusallab.platform.Section;
import org.refusallab.platform.StudyConfig;
import org.refusallab.platform.exitguard.ExitGuardWeaver;

/**
 * What every in-framework test needs: the tester bundle's context, a study.json, a fake model registered as the
 * HookedModel service, a runner on the real service registry, and the analysis bundles of target/testbundles
 * (installed from their jars as a user's bundle would be, and uninstalled again on close so test classes, which
 * share one framework, do not see each other's analyses).
 */
final class PlatformFixture implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(10);

    private final BundleContext context = FrameworkUtil.getBundle(PlatformFixture.class).getBundleContext();
    private final Path configDir;
    private final AnalysisRunner runner;
    private ServiceRegistration<HookedModel> model;
    private final List<Bundle> installed = new ArrayList<>();
    private final List<Configuration> configurations = new ArrayList<>();
    /** The exit guard, as the launcher registers it before any analysis bundle loads a class. */
    private final ServiceRegistration<WeavingHook> exitGuard = context.registerService(WeavingHook.class, new ExitGuardWeaver(), new Hashtable<>());

    PlatformFixture(String studyJson) throws IOException {
        configDir = Files.createTempDirectory("platform-test");
        Files.writeString(configDir.resolve("study.json"), studyJson);
        registerModel();
        runner = new AnalysisRunner(context, StudyConfig.load(configDir.resolve("study.json")), configDir, Duration.ofSeconds(30),
                id -> Progress.NONE);
    }

    BundleContext context() {
        return context;
    }

    AnalysisRunner runner() {
        return runner;
    }

    void registerModel() {
        registerModel(new FakeModel());
    }

    void registerModel(HookedModel m) {
        model = context.registerService(HookedModel.class, m, new Hashtable<>());
    }

    void unregisterModel() {
        model.unregister();
        model = null;
    }

    /** target/testbundles/test-NAME.jar, built by this module's bnd "jar" executions. */
    Path jar(String name) {
        String dir = context.getProperty("refusallab.testbundles");
        if (dir == null) fail("framework property refusallab.testbundles is not set (see platform.bndrun)");
        Path jar = Path.of(dir, "test-" + name + ".jar");
        if (!Files.isRegularFile(jar)) fail(jar + " does not exist: the bnd execution testbundle-" + name + " builds it");
        return jar;
    }

    Bundle install(String name) throws Exception {
        try (InputStream in = Files.newInputStream(jar(name))) {
            Bundle b = context.installBundle("testbundle:" + name, in);
            installed.add(b);
            return b;
        }
    }

    /** Installs the bundle from other bytes than a jar of target/testbundles (a corrupt jar). */
    Bundle installBytes(String location, byte[] bytes) throws Exception {
        Bundle b = context.installBundle(location, new java.io.ByteArrayInputStream(bytes));
        installed.add(b);
        return b;
    }

    /** Installs and starts the bundle, and waits for SCR to register its Analysis service (SCR works asynchronously). */
    Bundle installAndStart(String name) throws Exception {
        Bundle b = install(name);
        b.start();
        awaitAnalysisOf(b);
        return b;
    }

    /** Replaces the bundle's content with another jar, as a new version dropped over the old one would. */
    void update(Bundle b, String name) throws Exception {
        try (InputStream in = Files.newInputStream(jar(name))) {
            b.update(in);
        }
    }

    ServiceReference<?> awaitAnalysisOf(Bundle b) throws InterruptedException {
        ServiceReference<?>[] found = new ServiceReference<?>[1];
        await(() -> {
            ServiceReference<?>[] refs = b.getRegisteredServices();
            if (refs == null) return false;
            for (ServiceReference<?> r : refs) {
                if (List.of((String[]) r.getProperty("objectClass")).contains(Analysis.class.getName())) {
                    found[0] = r;
                    return true;
                }
            }
            return false;
        }, b.getSymbolicName() + " " + b.getVersion() + " registers its Analysis service");
        return found[0];
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail(what + ": did not happen within " + WAIT.toSeconds() + " s");
            Thread.sleep(10);
        }
    }

    /** Sets the Configuration Admin configuration refusallab.analysis.ID (deleted again on close). */
    void configure(String analysisId, Map<String, Object> properties) throws IOException {
        ServiceReference<ConfigurationAdmin> ref = context.getServiceReference(ConfigurationAdmin.class);
        if (ref == null) fail("no ConfigurationAdmin service: is org.apache.felix.configadmin in -runbundles?");
        Configuration c = context.getService(ref).getConfiguration(AnalysisRunner.PID_PREFIX + analysisId, "?");
        Dictionary<String, Object> d = new Hashtable<>(properties);
        c.update(d);
        configurations.add(c);
    }

    static Map<String, Section> byId(List<Section> sections) {
        return sections.stream().collect(Collectors.toMap(Section::id, Function.identity()));
    }

    static List<Double> values(Section s) {
        return java.util.Arrays.stream(s.result().figures().get(0).series().get(0).values()[0]).boxed().toList();
    }

    void uninstallAll() throws Exception {
        for (Bundle b : installed) {
            if (b.getState() != Bundle.UNINSTALLED) b.uninstall();
        }
        installed.clear();
    }

    @Override
    public void close() throws Exception {
        uninstallAll();
        for (Configuration c : configurations) {
            try {
                c.delete();
            } catch (IllegalStateException alreadyDeleted) {
                // deleted by the test itself
            }
        }
        runner.close();
        exitGuard.unregister();
        if (model != null) model.unregister();
        try (var files = Files.walk(configDir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
