package org.refusallab.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.ModelInfo;
import org.refusallab.api.sweep.SweepService;
import org.refusallab.platform.AnalysisRunner;
import org.refusallab.platform.AnalysisThreads;
import org.refusallab.platform.AnalysisWatcher;
import org.refusallab.platform.Section;
import org.refusallab.platform.StudyConfig;
import org.refusallab.platform.TimeLimits;
import org.refusallab.report.Report;
import org.refusallab.report.SiteHistory;
import org.refusallab.report.SitePublisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running platform: the framework with its bundles, the model registered as a service, the runner, and the
 * publisher. "run" uses it once; "watch" keeps it and re-runs what changes. Engine subcommands may start one too.
 */
public final class Lab implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Lab.class);
    /** How long the watcher waits for the deploy folder to settle before re-running (a bundle update is two events). */
    static final long DEBOUNCE_MS = 300;

    /**
     * @param model       an already loaded model (tests), or null to load {@code modelDir} with the engine
     * @param sparkMaster null: sweeps run in-process (the study bundle's service); else a Spark master (local[2],
     *                    local-cluster[E,C,MB], spark://host:port) whose sweep service the framework gets instead
     */
    public record Settings(Path home, Path work, Path configDir, Path modelDir, String gelu, Path frameworkBundles,
                           boolean fileinstall, boolean shell, Map<String, String> frameworkOverrides, HookedModel model,
                           AnalysisRunner.ProgressFactory progress, String sparkMaster) {
        /** Sweeps in-process (no Spark). */
        public Settings(Path home, Path work, Path configDir, Path modelDir, String gelu, Path frameworkBundles, boolean fileinstall, boolean shell,
                        Map<String, String> frameworkOverrides, HookedModel model, AnalysisRunner.ProgressFactory progress) {
            this(home, work, configDir, modelDir, gelu, frameworkBundles, fileinstall, shell, frameworkOverrides, model, progress, null);
        }
    }

    private final Settings settings;
    private final Instant started;
    private final StudyConfig study;
    private final FrameworkHost host;
    private final HookedModel model;
    private final boolean ownsModel;
    private final Duration modelLoad;
    private final AnalysisRunner runner;
    private final SiteHistory history = new SiteHistory(new SitePublisher());
    private final SiteHistory.Provenance provenance;
    private final Duration defaultTimeout;
    private volatile boolean keepStale = true;
    private final ScheduledExecutorService monitor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lab-problem-monitor");
        t.setDaemon(true);
        return t;
    });
    private final ServiceRegistration<HookedModel> modelRegistration;
    /** The Spark sweep service when --spark is given (registered before the model, ranked above the in-process one). */
    private final SparkSweeps.Started spark;
    private final ServiceRegistration<SweepService> sparkRegistration;
    private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lab-runner");
        t.setDaemon(true);
        return t;
    });
    private final List<ServiceRegistration<?>> shellRegistrations = new ArrayList<>();
    private AnalysisWatcher watcher;
    private volatile Instant lastPublished;
    private final Object publishLock = new Object();
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private Lab(Settings s, Instant started, StudyConfig study, FrameworkHost host, HookedModel model, boolean ownsModel, Duration modelLoad,
                SiteHistory.Provenance provenance, SparkSweeps.Started spark) {
        this.settings = s;
        this.provenance = provenance;
        this.started = started;
        this.study = study;
        this.host = host;
        this.model = model;
        this.ownsModel = ownsModel;
        this.modelLoad = modelLoad;
        this.spark = spark;
        // first, and ranked higher: the study service binds the best sweep service present when it is first used
        sparkRegistration = spark == null ? null : host.context().registerService(SweepService.class, spark.service(),
                new Hashtable<>(Map.of(Constants.SERVICE_RANKING, 100, "refusallab.sweep", "spark")));
        modelRegistration = host.context().registerService(HookedModel.class, model, new Hashtable<>(Map.of("refusallab.model", String.valueOf(model.info().checkpoint()))));
        String configured = host.property(FrameworkHost.TIMEOUT, null);
        defaultTimeout = configured == null ? TimeLimits.defaultFor(model.info()) : Duration.ofSeconds(Long.parseLong(configured.trim()));
        runner = new AnalysisRunner(host.context(), study, s.configDir(), defaultTimeout, s.progress());
    }

    public static Lab start(Settings s) throws IOException, BundleException, InterruptedException {
        Instant started = Instant.now(); // the report's "took" includes loading the model and starting the framework
        // ND4J captures its class loader once; it must be the class path's, before any bundle touches ND4J
        org.nd4j.common.config.ND4JClassLoading.setNd4jClassloaderFromClass(org.nd4j.linalg.factory.Nd4j.class);
        StudyConfig study = StudyConfig.load(s.configDir().resolve("study.json"));
        // set-up errors (unreadable data files, no tokenizer) stop here: nothing runs, the report stays as it was
        Map<String, Path> dataFiles = StudySetup.check(study, s.configDir());
        HookedModel model = s.model();
        boolean owns = false;
        long t0 = System.nanoTime();
        if (model == null) {
            ModelLoader.requireTokenizer(s.modelDir());
            model = ModelLoader.load(s.modelDir(), s.gelu());
            owns = true;
        }
        Duration load = Duration.ofNanos(System.nanoTime() - t0);
        SiteHistory.Provenance provenance = new SiteHistory.Provenance(owns
                ? StudySetup.checkpointHash(s.modelDir(), s.work().resolve("checkpoint-hashes"))
                : "preloaded:" + model.info().checkpoint(), StudySetup.configurationHash(study.file(), dataFiles));
        FrameworkHost host;
        try {
            host = FrameworkHost.start(new FrameworkHost.Options(s.home(), s.work(), s.configDir(), s.frameworkBundles(),
                    s.fileinstall(), s.shell(), s.frameworkOverrides()));
        } catch (IOException | BundleException | RuntimeException e) {
            if (owns) closeModel(model);
            throw e;
        }
        SparkSweeps.Started spark = null;
        if (s.sparkMaster() != null) {
            try {
                String checksum = owns ? provenance.checkpoint() : null;
                spark = SparkSweeps.start(s.sparkMaster(), s.home(), s.modelDir(), s.gelu(), checksum, model);
            } catch (RuntimeException e) {
                host.close();
                if (owns) closeModel(model);
                throw e;
            }
        }
        Lab lab = new Lab(s, started, study, host, model, owns, load, provenance, spark);
        if (s.fileinstall()) host.awaitDeployFolder(Duration.ofSeconds(30));
        return lab;
    }

    /** Runs every enabled analysis (or only those named) on the lab's worker thread. */
    public List<Section> runAll(Set<String> only) throws InterruptedException {
        return onWorker(() -> runner.runAll(only));
    }

    /**
     * Publishes a new run of the report folder {@code out} (see SiteHistory: runs/&lt;time&gt;/, stale results of failed
     * analyses, the last sections of analyses not run). Synchronized: the watcher, the problem monitor and the shell
     * may all publish.
     */
    public SiteHistory.Published publish(Path out) throws IOException {
        synchronized (publishLock) { // its own lock: the watcher publishes from the worker thread, the shell from Gogo's
            SiteHistory.Published p = history.publish(report(), out, provenance, new SiteHistory.Carry(keepStale, notRun()));
            lastPublished = Instant.now();
            return p;
        }
    }

    /** Whether a failed analysis shows its last successful result, marked stale (default: yes; run --no-stale). */
    public void keepStale(boolean keep) {
        keepStale = keep;
    }

    /** Analyses present and enabled that have no section in this process (not run: --only): id to bundle@version. */
    private Map<String, String> notRun() {
        Set<String> have = new java.util.HashSet<>(runner.sections().stream().map(Section::id).toList());
        Map<String, String> out = new LinkedHashMap<>();
        for (AnalysisRunner.Candidate c : runner.resolve().winners()) {
            if (!have.contains(c.id()) && study.settings(c.id()).enabled()) out.put(c.id(), c.bundle() + "@" + c.version());
        }
        return out;
    }

    /** Every problem the summary shows: framework and deploy folder (failed bundles), the runner's, abandoned analyses. */
    public List<String> problems() {
        List<String> all = new ArrayList<>(host.problems());
        all.addAll(runner.problems());
        for (AnalysisThreads.Abandoned a : runner.abandoned()) all.add(a.describe());
        return all;
    }

    public Report report() {
        return new Report(summary(), runner.sections());
    }

    /**
     * Watch mode: re-run an analysis whose service appears, changes or goes away (a bundle dropped into, replaced
     * in or removed from the deploy folder) or whose configuration changes, then republish to {@code out}.
     */
    public void watch(Path out) {
        watch(out, Set.of());
    }

    /** As {@link #watch(Path)}, re-running only the analyses in {@code only} when it is not empty. */
    public synchronized void watch(Path out, Set<String> only) {
        if (watcher != null) throw new IllegalStateException("already watching");
        watcher = new AnalysisWatcher(host.context(), runner, worker, Duration.ofMillis(DEBOUNCE_MS), only, touched -> {
            for (String id : touched) {
                Section sec = runner.sections().stream().filter(x -> x.id().equals(id)).findFirst().orElse(null);
                if (sec == null) System.out.println("watch: " + id + " removed");
                else System.out.printf("watch: %s %s in %.1f s%s%n", id, sec.status(), sec.took().toMillis() / 1000.0,
                        sec.failed() || sec.notApplicable() ? ": " + sec.errorLine() : "");
            }
            try {
                publish(out);
                LOG.info("re-ran/removed {} and republished {}", touched, out);
            } catch (IOException | RuntimeException e) {
                LOG.error("watch: publishing failed (the previous report is kept): {}", e.toString());
            }
        });
        // failed bundles (corrupt jars, unresolvable or failing bundles, a removed deploy folder) and abandoned analyses
        // come and go without any analysis re-running: say so on the console and republish when they change
        List<String> shown = new ArrayList<>(problems());
        boolean[] deployMissing = {!Files.isDirectory(host.deployDir())};
        monitor.scheduleWithFixedDelay(() -> {
            try {
                boolean missing = !Files.isDirectory(host.deployDir());
                if (deployMissing[0] && !missing) host.restartFileinstall();
                deployMissing[0] = missing;
                List<String> now = problems();
                if (now.equals(shown)) return;
                for (String p : now) if (!shown.contains(p)) System.out.println("watch: " + p);
                for (String p : shown) if (!now.contains(p)) System.out.println("watch: resolved: " + p);
                shown.clear();
                shown.addAll(now);
                publish(out);
            } catch (IOException | RuntimeException e) {
                LOG.error("watch: checking for failed bundles or republishing failed: {}", e.toString());
            }
        }, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** The Gogo shell commands lab:list, lab:run, lab:publish (registered before the first run, so they work during it). */
    public void registerShellCommands(Path out) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("osgi.command.scope", "lab");
        props.put("osgi.command.function", new String[] {"list", "run", "publish"});
        shellRegistrations.add(host.context().registerService(Object.class, new LabCommands(this, out), props));
    }

    <T> T onWorker(Callable<T> job) throws InterruptedException {
        Future<T> f = worker.submit(job);
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        }
    }

    public AnalysisRunner runner() {
        return runner;
    }

    public FrameworkHost host() {
        return host;
    }

    public HookedModel model() {
        return model;
    }

    public Instant lastPublished() {
        return lastPublished;
    }

    Report.Summary summary() {
        ModelInfo mi = model.info();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("checkpoint", mi.checkpoint());
        m.put("model type", mi.modelType());
        m.put("layers", Integer.toString(mi.nLayers()));
        m.put("heads (query / key-value)", mi.nHeads() + " / " + mi.nKvHeads());
        m.put("d_model / d_head / d_mlp", mi.dModel() + " / " + mi.dHead() + " / " + mi.dMlp());
        m.put("vocabulary", Integer.toString(mi.vocabSize()));
        m.put("dtype (stored / compute)", mi.storedDtype() + " / " + mi.computeDtype());
        m.put("GELU", mi.gelu());
        m.put("RoPE theta / RMSNorm eps", mi.ropeTheta() + " / " + mi.rmsNormEps());
        m.put("load time", String.format("%.1f s", modelLoad.toMillis() / 1000.0));
        // claims about gemma-2b-it's own values are judged only there (findings.json's seedModel)
        m.put(org.refusallab.report.FindingData.SEED_MODEL_KEY, org.refusallab.api.study.Verdicts.isSeedModel(mi) ? "yes" : "no (claims about gemma-2b-it's own values are not applicable)");

        Map<String, String> st = new LinkedHashMap<>();
        st.put("study file", study.file().toString());
        st.put("sweeps", spark == null ? "in-process" : spark.describe());
        st.putAll(study.parameters());
        List<String> disabled = study.analyses().entrySet().stream().filter(e -> !e.getValue().enabled()).map(Map.Entry::getKey).toList();
        if (!disabled.isEmpty()) st.put("disabled analyses", String.join(", ", disabled));

        List<Report.Dataset> datasets = new ArrayList<>();
        List<String> problems = new ArrayList<>(problems());
        st.put("default time limit", defaultTimeout.toSeconds() + " s per analysis" + (host.property(FrameworkHost.TIMEOUT, null) == null
                ? " (fitted to the model: 5 min + 1.5 s per million parameters)" : " (" + FrameworkHost.TIMEOUT + ")"));
        for (var e : study.datasets().entrySet()) {
            Path f = settings.configDir().resolve(e.getValue());
            String detail;
            if (Files.isRegularFile(f)) {
                detail = describeFile(f);
            } else {
                detail = "missing";
                problems.add("dataset " + e.getKey() + ": " + f + " does not exist");
            }
            datasets.add(new Report.Dataset(e.getKey(), e.getValue(), detail));
        }

        Map<String, String> v = new LinkedHashMap<>();
        v.put("refusal-lab", String.valueOf(Lab.class.getPackage().getImplementationVersion() == null ? "development build" : Lab.class.getPackage().getImplementationVersion()));
        v.put("Java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        v.put("Apache Felix", host.framework().getVersion().toString());
        v.put("ND4J", mavenVersion("org.nd4j", "nd4j-api"));
        v.put("OS", System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " CPUs");
        return new Report.Summary(study.name(), started, Duration.between(started, Instant.now()), m, st, datasets, v, problems);
    }

    private static String describeFile(Path f) {
        try {
            byte[] bytes = Files.readAllBytes(f);
            long lines = new String(bytes, java.nio.charset.StandardCharsets.UTF_8).lines().count();
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 12);
            return lines + " lines, " + bytes.length + " bytes, sha256 " + sha;
        } catch (IOException | NoSuchAlgorithmException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    static String mavenVersion(String group, String artifact) {
        try (InputStream in = Lab.class.getClassLoader().getResourceAsStream("META-INF/maven/" + group + "/" + artifact + "/pom.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return; // the shutdown hook and the command may both get here
        worker.shutdownNow();
        monitor.shutdownNow();
        synchronized (this) {
            if (watcher != null) watcher.close();
        }
        for (ServiceRegistration<?> r : shellRegistrations) {
            try { r.unregister(); } catch (IllegalStateException ignored) { }
        }
        runner.close();
        try {
            modelRegistration.unregister();
            if (sparkRegistration != null) sparkRegistration.unregister();
        } catch (IllegalStateException ignored) {
            // framework already stopped (e.g. "exit" in the shell)
        }
        host.close();
        if (spark != null) {
            try {
                spark.closer().close();
            } catch (Exception e) {
                LOG.warn("stopping Spark: {}", e.toString());
            }
        }
        if (ownsModel) closeModel(model);
    }

    private static void closeModel(HookedModel m) {
        if (m instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("closing the model: {}", e.toString());
            }
        }
    }
}
