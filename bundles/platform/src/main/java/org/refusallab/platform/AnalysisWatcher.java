package org.refusallab.platform;

import java.time.Duration;
import java.util.Hashtable;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceListener;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ConfigurationEvent;
import org.osgi.service.cm.ConfigurationListener;
import org.refusallab.api.analysis.Analysis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watch mode's platform half: when an Analysis service appears, changes or goes away (its bundle installed, updated
 * or uninstalled) or the Configuration Admin configuration {@code refusallab.analysis.<id>} changes, it waits for the
 * events to settle, re-runs what changed through {@link AnalysisRunner#runChanged(Set, Set)} on the given worker
 * thread, and tells its listener which ids it re-ran or removed. Publishing is the listener's business.
 */
public final class AnalysisWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AnalysisWatcher.class);

    /** Told, on the worker thread, the ids re-run or removed by one refresh (never empty). */
    public interface Listener {
        void changed(Set<String> touched);
    }

    private final BundleContext context;
    private final AnalysisRunner runner;
    private final ScheduledExecutorService worker;
    private final Duration debounce;
    private final Set<String> only;
    private final Listener listener;
    private final Set<String> configChanged = ConcurrentHashMap.newKeySet();
    private final ServiceListener analysisListener = event -> scheduleRefresh();
    private final ServiceRegistration<ConfigurationListener> configRegistration;
    private ScheduledFuture<?> pendingRefresh;

    /**
     * Starts listening at once.
     *
     * @param worker   where re-runs happen; the owner runs its other runs there too, so they never overlap
     * @param debounce how long to wait after the last event (a bundle update is an unregistration then a registration)
     * @param only     re-run only these ids ("watch --only"); empty: all
     */
    public AnalysisWatcher(BundleContext context, AnalysisRunner runner, ScheduledExecutorService worker, Duration debounce,
                           Set<String> only, Listener listener) {
        this.context = context;
        this.runner = runner;
        this.worker = worker;
        this.debounce = debounce;
        this.only = Set.copyOf(only);
        this.listener = listener;
        try {
            context.addServiceListener(analysisListener, "(" + Constants.OBJECTCLASS + "=" + Analysis.class.getName() + ")");
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        ConfigurationListener configListener = (ConfigurationEvent e) -> {
            String id = AnalysisRunner.analysisIdOfPid(e.getPid());
            if (id != null) {
                configChanged.add(id);
                scheduleRefresh();
            }
        };
        configRegistration = context.registerService(ConfigurationListener.class, configListener, new Hashtable<>());
    }

    private synchronized void scheduleRefresh() {
        if (pendingRefresh != null) pendingRefresh.cancel(false);
        pendingRefresh = worker.schedule(this::refresh, debounce.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void refresh() {
        try {
            Set<String> rerun = Set.copyOf(configChanged);
            configChanged.removeAll(rerun);
            Set<String> touched = runner.runChanged(rerun, only);
            if (!touched.isEmpty()) listener.changed(touched);
        } catch (RuntimeException e) {
            // the watcher must outlive one bad refresh; the previous report stays as it was
            LOG.error("watch: re-running or publishing failed: {}", e.toString(), e);
        }
    }

    @Override
    public synchronized void close() {
        if (pendingRefresh != null) pendingRefresh.cancel(false);
        try {
            context.removeServiceListener(analysisListener);
        } catch (IllegalStateException ignored) {
            // the framework is stopping
        }
        try {
            configRegistration.unregister();
        } catch (IllegalStateException ignored) {
            // already gone with the framework
        }
    }
}
