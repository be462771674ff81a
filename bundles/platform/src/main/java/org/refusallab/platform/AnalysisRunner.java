package org.refusallab.platform;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceListener;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.Version;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Assumption;
import org.refusallab.api.analysis.Parameters;
import org.refusallab.api.analysis.SharedResults;
import org.refusallab.api.analysis.Progress;
import org.refusallab.api.model.Architecture;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.result.AnalysisResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the Analysis services in the framework, picks one per id, and runs them one at a time in report order, each
 * on its own thread ({@link AnalysisThreads}) with a time limit, so a throwing, hanging or malformed analysis becomes
 * a failed section and the others still run. Keeps the latest section of every analysis for publishing.
 *
 * <p>Two services with the same id: the winner has the highest {@code service.ranking}, then the highest bundle
 * version, then the highest bundle id (the most recently installed, so a jar dropped into the deploy folder beats a
 * built-in copy of the same version). The others are named in the report's problems.
 */
public final class AnalysisRunner implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AnalysisRunner.class);
    public static final String PID_PREFIX = "refusallab.analysis.";
    private static final String ID = "[a-z0-9][a-z0-9-]*";

    /** Makes the progress display of one analysis. */
    public interface ProgressFactory {
        Progress create(String analysisId);
    }

    /** One Analysis service as found in the registry, by its service properties (the service itself is got to run it). */
    public record Candidate(ServiceReference<Analysis> ref, String id, String title, int order, List<String> parameterTypes,
                            int ranking, Version version, long bundleId, String bundle, long serviceId,
                            List<String> assumes, List<String> linearises) {
        public Candidate(ServiceReference<Analysis> ref, String id, String title, int order, List<String> parameterTypes,
                         int ranking, Version version, long bundleId, String bundle, long serviceId) {
            this(ref, id, title, order, parameterTypes, ranking, version, bundleId, bundle, serviceId, List.of(), List.of());
        }

        public String describe() {
            return bundle + " " + version + " (bundle " + bundleId + ")";
        }
    }

    /** The winner of every id in report order, and what was wrong on the way. */
    public record Resolution(List<Candidate> winners, List<String> problems) {
        public Candidate winner(String id) {
            return winners.stream().filter(c -> c.id().equals(id)).findFirst().orElse(null);
        }
    }

    static final Comparator<Candidate> PREFERENCE = Comparator.comparingInt(Candidate::ranking)
            .thenComparing(Candidate::version)
            .thenComparingLong(Candidate::bundleId)
            .thenComparingLong(Candidate::serviceId) // one bundle registering the id twice: the later registration
            .reversed();

    private final BundleContext context;
    private final StudyConfig study;
    private final Path configDir;
    private final Duration defaultTimeout;
    private final ProgressFactory progress;
    private final ServiceTracker<Analysis, Analysis> analyses;
    private final ServiceTracker<HookedModel, HookedModel> models;
    private final ServiceTracker<ConfigurationAdmin, ConfigurationAdmin> configAdmin;
    private final SharedResults shared = new SharedResults();
    private final Map<String, Section> sections = new ConcurrentHashMap<>();
    private final Map<String, Long> ranServiceIds = new ConcurrentHashMap<>();
    private volatile List<String> problems = List.of();
    private final AnalysisThreads threads = new AnalysisThreads();
    /** Analysis services whose component failed to activate, by service id, with the reason. */
    private final Map<Long, String> failedComponents = new ConcurrentHashMap<>();
    /** Abandoned analysis threads are stopped again when their bundle leaves (its code is gone). */
    private final org.osgi.framework.BundleListener bundleGone = e -> {
        if (e.getType() == org.osgi.framework.BundleEvent.UNINSTALLED || e.getType() == org.osgi.framework.BundleEvent.UPDATED
                || e.getType() == org.osgi.framework.BundleEvent.UNRESOLVED) threads.bundleGone(e.getBundle().getBundleId());
    };

    public AnalysisRunner(BundleContext context, StudyConfig study, Path configDir, Duration defaultTimeout, ProgressFactory progress) {
        this.context = context;
        this.study = study;
        this.configDir = configDir;
        this.defaultTimeout = defaultTimeout;
        this.progress = progress;
        analyses = new ServiceTracker<>(context, Analysis.class, null);
        models = new ServiceTracker<>(context, HookedModel.class, null);
        configAdmin = new ServiceTracker<>(context, ConfigurationAdmin.class, null);
        analyses.open();
        models.open();
        configAdmin.open();
        context.addBundleListener(bundleGone);
    }

    public Resolution resolve() {
        List<String> found = new ArrayList<>();
        Map<String, List<Candidate>> byId = new TreeMap<>();
        ServiceReference<Analysis>[] refs = analyses.getServiceReferences();
        for (ServiceReference<Analysis> ref : refs == null ? List.<ServiceReference<Analysis>>of() : List.of(refs)) {
            // metadata are service properties (@AnalysisInfo): read without calling the service
            String bundle = ref.getBundle() == null ? "?" : ref.getBundle().getSymbolicName();
            Object idProp = ref.getProperty(AnalysisInfo.ID), titleProp = ref.getProperty(AnalysisInfo.TITLE), orderProp = ref.getProperty(AnalysisInfo.ORDER);
            String id = idProp instanceof String s ? s : null;
            Long sid = (Long) ref.getProperty(Constants.SERVICE_ID);
            String failedBefore = failedComponents.get(sid);
            if (failedBefore != null) { // asked once per service: each attempt has SCR log the whole stack trace again
                found.add(failedBefore);
                continue;
            }
            if (analyses.getService(ref) == null) {
                // registered but no object: its DS component failed to activate (constructor or @Activate threw)
                if (ref.getBundle() != null) {
                    String why = BundleProblems.componentFailure(context, ref);
                    failedComponents.put(sid, why);
                    found.add(why);
                }
                continue; // or it went away meanwhile
            }
            if (id == null || !id.matches(ID) || id.equals("index")) {
                found.add("bundle " + bundle + ": analysis service property " + AnalysisInfo.ID + " (@AnalysisInfo id) must be lower-case-dashed (and not 'index'): '" + idProp + "'");
                continue;
            }
            int order = orderProp instanceof Number n ? n.intValue() : 500;
            Object rank = ref.getProperty(Constants.SERVICE_RANKING);
            byId.computeIfAbsent(id, k -> new ArrayList<>()).add(new Candidate(ref, id, titleProp instanceof String t ? t : id, order,
                    strings(ref.getProperty(AnalysisInfo.PARAMETERS)), rank instanceof Integer i ? i : 0,
                    ref.getBundle() == null ? Version.emptyVersion : ref.getBundle().getVersion(),
                    ref.getBundle() == null ? -1 : ref.getBundle().getBundleId(), bundle, (Long) ref.getProperty(Constants.SERVICE_ID),
                    strings(ref.getProperty(AnalysisInfo.ASSUMES)), strings(ref.getProperty(AnalysisInfo.LINEARISES))));
        }
        found.addAll(untrackable(refs));
        List<Candidate> winners = new ArrayList<>();
        for (var e : byId.entrySet()) {
            List<Candidate> cs = new ArrayList<>(e.getValue());
            cs.sort(PREFERENCE);
            winners.add(cs.get(0));
            if (cs.size() > 1) {
                String msg = "analysis id '" + e.getKey() + "' is provided by " + cs.size() + " bundles: using " + cs.get(0).describe()
                        + "; ignoring " + String.join(", ", cs.subList(1, cs.size()).stream().map(Candidate::describe).toList())
                        + " (rule: highest service.ranking, then highest bundle version, then most recently installed)";
                found.add(msg);
                LOG.warn(msg);
            }
        }
        winners.sort(Comparator.comparingInt(Candidate::order).thenComparing(Candidate::id));
        return new Resolution(winners, found);
    }

    /**
     * Registered Analysis services the tracker could not get an object for (so it does not track them): their DS
     * component failed to activate. Named with SCR's reason.
     */
    private List<String> untrackable(ServiceReference<Analysis>[] tracked) {
        List<String> out = new ArrayList<>();
        try {
            Set<ServiceReference<Analysis>> known = tracked == null ? Set.of() : Set.of(tracked);
            for (ServiceReference<Analysis> ref : context.getServiceReferences(Analysis.class, null)) {
                if (known.contains(ref) || ref.getBundle() == null) continue;
                Long sid = (Long) ref.getProperty(Constants.SERVICE_ID);
                String before = failedComponents.get(sid);
                if (before != null) { // asked once per service: each attempt has SCR log the whole stack trace again
                    out.add(before);
                    continue;
                }
                Analysis a = context.getService(ref);
                if (a != null) {
                    context.ungetService(ref); // came up meanwhile: the tracker will have it next time
                    continue;
                }
                String why = BundleProblems.componentFailure(context, ref);
                LOG.info(why); // at INFO: run prints its problems as warnings, watch when they appear
                failedComponents.put(sid, why);
                out.add(why);
            }
        } catch (InvalidSyntaxException | IllegalStateException e) {
            // no filter given; a stopping framework has nothing to report
        }
        return out;
    }

    /**
     * Runs every enabled analysis (only those in {@code only} when it is not empty) and keeps their sections.
     * Throws IllegalArgumentException if {@code only} names an id that is not present.
     */
    public List<Section> runAll(Set<String> only) {
        Resolution res = resolve();
        problems = res.problems();
        if (!only.isEmpty()) {
            List<String> unknown = only.stream().filter(id -> res.winner(id) == null).sorted().toList();
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException("no analysis with id " + String.join(", ", unknown) + "; present: "
                        + String.join(", ", res.winners().stream().map(Candidate::id).toList()));
            }
        }
        List<Section> ran = new ArrayList<>();
        for (Candidate c : res.winners()) {
            if (!only.isEmpty() && !only.contains(c.id())) continue;
            if (!study.settings(c.id()).enabled() && !only.contains(c.id())) { // naming it in --only overrides "enabled": false
                LOG.info("{} is disabled in {}", c.id(), study.file());
                sections.remove(c.id());
                continue;
            }
            ran.add(run(c));
        }
        return ran;
    }

    /** Re-runs what changed since the last run (new id, other winner) and drops what is gone; returns the ids touched. */
    public Set<String> runChanged(Set<String> alsoRerun) {
        return runChanged(alsoRerun, Set.of());
    }

    /** As {@link #runChanged(Set)}, restricted to the ids in {@code only} when it is not empty ("watch --only"). */
    public Set<String> runChanged(Set<String> alsoRerun, Set<String> only) {
        Resolution res = resolve();
        problems = res.problems();
        Set<String> touched = new java.util.TreeSet<>();
        Set<String> present = new java.util.HashSet<>();
        for (Candidate c : res.winners()) {
            if (!only.isEmpty() && !only.contains(c.id())) continue;
            present.add(c.id());
            Long last = ranServiceIds.get(c.id());
            boolean changed = last == null || last != c.serviceId() || alsoRerun.contains(c.id());
            if (changed && (study.settings(c.id()).enabled() || only.contains(c.id()))) {
                run(c);
                touched.add(c.id());
            }
        }
        for (String id : List.copyOf(sections.keySet())) {
            if (!present.contains(id)) {
                sections.remove(id);
                ranServiceIds.remove(id);
                touched.add(id);
                LOG.info("{} is gone: removed from the report", id);
            }
        }
        return touched;
    }

    /**
     * Runs one analysis with its context and time limit; never throws: failures become a failed section. The caller is
     * blocked at most until the limit plus {@link AnalysisThreads#COOPERATIVE_GRACE} and {@link AnalysisThreads#FORCE_GRACE},
     * or until the analysis's service is unregistered (its bundle removed or updated), whichever comes first.
     */
    public Section run(Candidate c) {
        Map<String, String> params;
        Map<String, String> table;
        try {
            params = parameters(c);
            table = parameterTable(c, params);
        } catch (RuntimeException e) {
            // a declaration that cannot be loaded fails this analysis only
            Section failed = Section.failed(c.id(), c.title(), c.order(), c.bundle(), c.version().toString(), describe(e), Duration.ZERO, Map.of());
            sections.put(c.id(), failed);
            ranServiceIds.put(c.id(), c.serviceId());
            return failed;
        }
        HookedModel model = models.getService();
        long t0 = System.nanoTime();
        String version = c.version().toString();
        Section section;
        Duration timeout = defaultTimeout;
        String badSetting = null;
        try {
            timeout = timeout(c, params);
        } catch (IllegalArgumentException e) {
            badSetting = e.getMessage();
        }
        List<String> assumptionLines = List.of();
        String notApplicable = null;
        if (model != null && badSetting == null) {
            try {
                List<Assumption.Check> checks = checkAssumptions(c, model);
                assumptionLines = checks.stream().map(Assumption.Check::describe).toList();
                notApplicable = Assumption.notApplicableReason(checks);
            } catch (IllegalArgumentException e) {
                badSetting = "analysis " + c.id() + ": " + e.getMessage();
            }
        }
        Analysis analysis = model == null || badSetting != null || notApplicable != null ? null : analyses.getService(c.ref());
        if (notApplicable != null) {
            // not run: a number computed under a broken assumption would be silently wrong
            section = Section.notApplicable(c.id(), c.title(), c.order(), c.bundle(), version, notApplicable, table, assumptionLines);
        } else if (badSetting != null) {
            section = Section.failed(c.id(), c.title(), c.order(), c.bundle(), version, badSetting, Duration.ZERO, table);
        } else if (model == null) {
            section = Section.failed(c.id(), c.title(), c.order(), c.bundle(), version, "no model is loaded (no HookedModel service)", Duration.ZERO, table);
        } else if (analysis == null) {
            section = Section.failed(c.id(), c.title(), c.order(), c.bundle(), version, c.ref().getBundle() == null
                    ? "its service went away before it could run" : BundleProblems.componentFailure(context, c.ref()), Duration.ZERO, table);
        } else {
            AtomicBoolean cancelled = new AtomicBoolean();
            CompletableFuture<AnalysisResult> outcome = new CompletableFuture<>();
            // the bundle going away (uninstalled or updated from the deploy folder) stops the wait at once
            ServiceListener whenGone = e -> {
                if (e.getType() == ServiceEvent.UNREGISTERING) {
                    cancelled.set(true);
                    outcome.completeExceptionally(new ServiceGone());
                }
            };
            try {
                context.addServiceListener(whenGone, "(" + Constants.SERVICE_ID + "=" + c.serviceId() + ")");
            } catch (InvalidSyntaxException e) {
                throw new IllegalStateException(e);
            }
            Progress bar = progress.create(c.id());
            AnalysisContext ctx = new Context(c.id(), model, params, configDir, shared, bar, cancelled);
            Thread worker = threads.newThread(c.id(), () -> {
                try {
                    outcome.complete(analysis.run(ctx));
                } catch (Throwable t) { // errors too: OutOfMemoryError, ThreadDeath, an exit refused by the exit guard
                    outcome.completeExceptionally(t);
                }
            }, analysis.getClass().getClassLoader());
            LOG.info("running {} ({} {}), limit {} s", c.id(), c.bundle(), version, timeout.toSeconds());
            String error = null;
            AnalysisResult result = null;
            try {
                // unregistered between resolve() and the listener: do not start it
                if (c.ref().getBundle() == null) throw new ExecutionException(new ServiceGone());
                worker.start();
                result = outcome.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                List<String> problemsFound = ResultValidator.problems(result);
                if (!problemsFound.isEmpty()) error = "malformed result: " + String.join("; ", problemsFound);
            } catch (TimeoutException e) {
                cancelled.set(true);
                error = "timed out after " + seconds(timeout) + " s (limit: " + (params.containsKey("timeoutSeconds")
                        ? "parameter timeoutSeconds)" : "the default for this model; parameter timeoutSeconds changes it)");
                error += ending(threads.end(worker, c.id(), c.bundle(), c.bundleId(), "timed out after " + seconds(timeout) + " s"));
            } catch (ExecutionException e) {
                if (e.getCause() instanceof ServiceGone) {
                    error = "stopped: its bundle was removed while it ran"
                            + (worker.isAlive() ? ending(threads.end(worker, c.id(), c.bundle(), c.bundleId(), "its bundle was removed")) : "");
                } else {
                    error = describe(e.getCause());
                }
            } catch (InterruptedException e) {
                cancelled.set(true);
                worker.interrupt();
                Thread.currentThread().interrupt();
                error = "interrupted (the platform is shutting down)";
            } finally {
                safeDone(bar);
                try {
                    context.removeServiceListener(whenGone);
                } catch (IllegalStateException ignored) {
                    // framework stopping
                }
            }
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            section = error == null
                    ? new Section(c.id(), c.title(), c.order(), c.bundle(), version, Section.Status.OK, null, took, table, result,
                            customTemplate(c))
                    : Section.failed(c.id(), c.title(), c.order(), c.bundle(), version, error, took, table);
        }
        if (!section.notApplicable()) section = section.withAssumptions(assumptionLines);
        // at INFO: "run" prints a status table and "watch" a line per re-run, so failures are not logged twice
        if (section.notApplicable()) LOG.info("{} not applicable: {}", c.id(), section.errorLine());
        else if (section.failed()) LOG.info("{} failed: {}", c.id(), section.errorLine());
        else LOG.info("{} done in {} ms", c.id(), section.took().toMillis());
        sections.put(c.id(), section);
        ranServiceIds.put(c.id(), c.serviceId());
        return section;
    }

    /**
     * The analysis's declared assumptions (service properties {@link AnalysisInfo#ASSUMES} / {@link AnalysisInfo#LINEARISES})
     * checked against the model. A model that does not say its architecture breaks every declared assumption. An
     * unknown assumption name (a bundle built against a newer API) is an IllegalArgumentException naming it.
     */
    static List<Assumption.Check> checkAssumptions(Candidate c, HookedModel model) {
        List<Assumption> assumes = assumptions(c.assumes()), linearises = assumptions(c.linearises());
        if (assumes.isEmpty() && linearises.isEmpty()) return List.of();
        Architecture arch;
        try {
            arch = model.architecture();
        } catch (UnsupportedOperationException e) {
            List<Assumption.Check> out = new ArrayList<>();
            for (Assumption a : assumes) out.add(new Assumption.Check(a, false, "the model does not say its architecture: " + e.getMessage()));
            for (Assumption a : linearises) out.add(new Assumption.Check(a, false, "the model does not say its architecture: " + e.getMessage()));
            return out;
        }
        return Assumption.check(arch, assumes, linearises);
    }

    private static List<Assumption> assumptions(List<String> names) {
        List<Assumption> out = new ArrayList<>();
        for (String n : names) {
            try {
                out.add(Assumption.valueOf(n));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown assumption '" + n + "' (known: " + java.util.Arrays.toString(Assumption.values()) + ")");
            }
        }
        return out;
    }

    /** Completes a run's outcome when its service is unregistered while it runs. */
    private static final class ServiceGone extends Exception {
        ServiceGone() {
            super(null, null, false, false);
        }
    }

    private static String ending(AnalysisThreads.Ending ending) {
        return switch (ending) {
            case STOPPED -> "";
            case STOPPED_BY_FORCE -> "; it ignored interruption and was stopped by force (Thread.stop)";
            case ABANDONED -> "; it could not be stopped and was abandoned: it still runs in the background (see the"
                    + " report's problems and lab:list) and the next analysis ran at once";
        };
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? Long.toString(d.toSeconds()) : String.format(java.util.Locale.ROOT, "%.1f", d.toMillis() / 1000.0);
    }

    /** Analyses that were abandoned (would not stop) and are still running. */
    public List<AnalysisThreads.Abandoned> abandoned() {
        return threads.stillRunning();
    }

    public AnalysisThreads threads() {
        return threads;
    }

    /** The analysis's own report fragment: report-templates/&lt;id&gt;.html in its bundle (src/main/resources), or null. */
    private static String customTemplate(Candidate c) {
        org.osgi.framework.Bundle b = c.ref().getBundle();
        java.net.URL entry = b == null ? null : b.getEntry("report-templates/" + c.id() + ".html");
        if (entry == null) return null;
        try (java.io.InputStream in = entry.openStream()) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            LOG.warn("{}: cannot read {}: {}", c.id(), entry, e.toString());
            return null;
        }
    }

    private static void safeDone(Progress bar) {
        try {
            bar.done();
        } catch (RuntimeException ignored) {
            // a progress bar must not turn a result into a failure
        }
    }

    /** Exception class and message on the first line, then the stack trace (shown on the analysis's page). */
    static String describe(Throwable t) {
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        String head = t.getClass().getSimpleName() + ": " + t.getMessage();
        List<String> lines = sw.toString().lines().skip(1).limit(40).toList();
        return head + "\n" + String.join("\n", lines);
    }

    /**
     * The one route of parameters: the defaults of the analysis's declarations (@AnalysisInfo parameters), then
     * study.json's parameters, then its per-analysis ones, then Configuration Admin. Bare keys, as declared.
     */
    Map<String, String> parameters(Candidate c) {
        Map<String, String> p = new LinkedHashMap<>(Parameters.defaults(declarations(c).toArray(new Class<?>[0])));
        p.putAll(study.parameters());
        p.putAll(study.settings(c.id()).parameters());
        p.putAll(configAdminProperties(c.id()));
        return p;
    }

    /** What the report's parameter table shows: every declared key with its value, then keys set for this analysis alone. */
    Map<String, String> parameterTable(Candidate c, Map<String, String> params) {
        Map<String, String> t = new LinkedHashMap<>();
        for (Class<?> d : declarations(c)) for (Parameters.Declaration k : Parameters.declarations(d)) t.put(k.key(), params.get(k.key()));
        Map<String, String> own = new LinkedHashMap<>(study.settings(c.id()).parameters());
        own.putAll(configAdminProperties(c.id()));
        for (String k : own.keySet()) t.putIfAbsent(k, params.get(k));
        if (params.containsKey("timeoutSeconds")) t.putIfAbsent("timeoutSeconds", params.get("timeoutSeconds"));
        return t;
    }

    /** The declaration types named by the service property, loaded from the analysis's bundle. */
    private static List<Class<?>> declarations(Candidate c) {
        List<Class<?>> out = new ArrayList<>();
        for (String name : c.parameterTypes()) {
            try {
                out.add(c.ref().getBundle().loadClass(name));
            } catch (ClassNotFoundException | IllegalStateException e) {
                throw new IllegalStateException("analysis " + c.id() + ": cannot load its parameter declaration " + name + ": " + e, e);
            }
        }
        return out;
    }

    private static List<String> strings(Object property) {
        if (property instanceof String s) return List.of(s);
        if (property instanceof String[] a) return List.of(a);
        if (property instanceof Collection<?> col) return col.stream().map(String::valueOf).toList();
        return List.of();
    }

    /**
     * The analysis id a configuration PID belongs to: {@code refusallab.analysis.<id>}, or a factory configuration that
     * fileinstall made of a file name with a dash ({@code refusallab.analysis.logit-lens.cfg} becomes factory PID
     * {@code refusallab.analysis.logit} with name {@code lens}, PID {@code refusallab.analysis.logit~lens}). Null if none.
     */
    public static String analysisIdOfPid(String pid) {
        if (pid == null || !pid.startsWith(PID_PREFIX)) return null;
        return pid.substring(PID_PREFIX.length()).replace('~', '-');
    }

    /**
     * Configuration Admin properties of an analysis: its PID, or the factory configuration fileinstall creates for a
     * file name with a dash (found by PID or by the file name fileinstall records).
     */
    private Map<String, String> configAdminProperties(String id) {
        Map<String, String> out = new LinkedHashMap<>();
        ConfigurationAdmin cm = configAdmin.getService();
        if (cm == null) return out;
        String pid = PID_PREFIX + id;
        int dash = id.indexOf('-');
        String filter = "(|(" + Constants.SERVICE_PID + "=" + pid + ")"
                + (dash < 0 ? "" : "(" + Constants.SERVICE_PID + "=" + PID_PREFIX + id.substring(0, dash) + "~" + id.substring(dash + 1) + ")")
                + "(felix.fileinstall.filename=*/" + pid + ".cfg)(felix.fileinstall.filename=*/" + pid + ".config))";
        try {
            Configuration[] cs = cm.listConfigurations(filter);
            if (cs == null) return out;
            Dictionary<String, Object> d = cs[0].getProperties();
            if (d == null) return out;
            for (Enumeration<String> keys = d.keys(); keys.hasMoreElements(); ) {
                String k = keys.nextElement();
                if (k.equals(Constants.SERVICE_PID) || k.startsWith("felix.fileinstall.") || k.equals("service.factoryPid")) continue;
                Object v = d.get(k);
                out.put(k, v instanceof Object[] arr ? String.join("|", java.util.Arrays.stream(arr).map(String::valueOf).toList())
                        : v instanceof Collection<?> col ? String.join("|", col.stream().map(String::valueOf).toList()) : String.valueOf(v));
            }
        } catch (IOException | InvalidSyntaxException e) {
            LOG.warn("cannot read configuration {}: {}", pid, e.toString());
        }
        return out;
    }

    /** The time limit; a timeoutSeconds that is not a positive number fails the analysis rather than being ignored. */
    private Duration timeout(Candidate c, Map<String, String> params) {
        String v = params.get("timeoutSeconds");
        if (v == null) return defaultTimeout;
        try {
            double s = Double.parseDouble(v.trim());
            if (!(s > 0) || Double.isInfinite(s)) throw new NumberFormatException();
            return Duration.ofMillis((long) (s * 1000));
        } catch (NumberFormatException e) {
            String from = configAdminProperties(c.id()).containsKey("timeoutSeconds")
                    ? "Configuration Admin " + PID_PREFIX + c.id() : study.file().toString();
            throw new IllegalArgumentException("parameter timeoutSeconds = '" + v + "' (from " + from
                    + ") is not a positive number of seconds; the analysis did not run");
        }
    }

    /** The latest section of every analysis, in report order. */
    public List<Section> sections() {
        List<Section> out = new ArrayList<>(sections.values());
        out.sort(Comparator.comparingInt(Section::order).thenComparing(Section::id));
        return out;
    }

    public List<String> problems() {
        return problems;
    }

    /** The results shared by this runner's analyses (the refusal direction, generations, ...). */
    public SharedResults shared() {
        return shared;
    }

    @Override
    public void close() {
        try {
            context.removeBundleListener(bundleGone);
        } catch (IllegalStateException ignored) {
            // framework stopping
        }
        analyses.close();
        models.close();
        configAdmin.close();
    }

    private record Context(String analysisId, HookedModel model, Map<String, String> parameters, Path configDirectory,
                           SharedResults sharedResults, Progress progress, AtomicBoolean cancelFlag) implements AnalysisContext {
        @Override
        public <T> T shared(String key, Class<T> type, Supplier<T> compute) {
            return sharedResults.get(key, type, compute);
        }

        @Override
        public boolean cancelled() {
            return cancelFlag.get() || Thread.currentThread().isInterrupted();
        }
    }
}
