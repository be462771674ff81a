package org.refusallab.platform;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads analyses run in: each run gets a new daemon thread in one tracked group ({@value #GROUP_NAME}), so the
 * platform can always say which analysis threads are alive.
 *
 * <p>How a run that must end is ended ({@link #end}): its cancellation flag is already set; the thread is interrupted
 * and gets {@link #COOPERATIVE_GRACE} to return. Code that ignores both (a {@code while (true) {}} loop) is then
 * stopped with {@link Thread#stop()}: on Java 17 to 19 that throws ThreadDeath in the thread at its next safepoint,
 * which ends such a loop; from Java 20 on it throws UnsupportedOperationException and the platform cannot end the
 * thread. Thread.stop is deprecated because the stopped code may leave shared objects half-updated: here the thread
 * runs code of an analysis that already broke its contract, and the alternative is a core burning until the process
 * exits. A thread still alive after {@link #FORCE_GRACE} more (blocked on a monitor in a deadlock, inside native code,
 * catching ThreadDeath, or on Java 20+) is <em>abandoned</em>: the runner goes on at once, the thread stays listed by
 * {@link #stillRunning()} (shown in {@code lab:list} and the report) until it ends, and is stopped again when its
 * bundle goes away.
 */
public final class AnalysisThreads {

    private static final Logger LOG = LoggerFactory.getLogger(AnalysisThreads.class);
    public static final String GROUP_NAME = "refusallab-analyses";
    /** How long an interrupted analysis gets to return by itself. */
    public static final Duration COOPERATIVE_GRACE = Duration.ofMillis(1500);
    /** How long a thread stopped by force gets to unwind. */
    public static final Duration FORCE_GRACE = Duration.ofMillis(500);

    /** How a run that had to end ended. */
    public enum Ending {
        /** returned (or threw) after being interrupted */
        STOPPED,
        /** ignored interruption and was stopped with Thread.stop */
        STOPPED_BY_FORCE,
        /** still alive: left running, listed by {@link #stillRunning()} */
        ABANDONED
    }

    /** An analysis thread that would not end. */
    public record Abandoned(String analysisId, String bundle, long bundleId, Thread thread, Instant since, String reason) {
        public boolean alive() {
            return thread.isAlive();
        }

        public String describe() {
            return "analysis " + analysisId + " (" + bundle + ", bundle " + bundleId + ") was abandoned at " + since + " (" + reason
                    + ") and is still running in the background (thread " + thread.getName() + ", state " + thread.getState() + ")";
        }
    }

    private final ThreadGroup group = new ThreadGroup(GROUP_NAME);
    private final AtomicInteger serial = new AtomicInteger();
    private final List<Abandoned> abandoned = new CopyOnWriteArrayList<>();

    public AnalysisThreads() {
        group.setDaemon(false); // the group must outlive a moment without threads: it is reused for every run
    }

    public ThreadGroup group() {
        return group;
    }

    /** A new, not yet started daemon thread of the group, named analysis-ID-N, with the analysis's class loader as context. */
    public Thread newThread(String analysisId, Runnable body, ClassLoader contextLoader) {
        Thread t = new Thread(group, body, "analysis-" + analysisId + "-" + serial.incrementAndGet());
        t.setDaemon(true); // never keeps the JVM alive
        t.setContextClassLoader(contextLoader);
        return t;
    }

    /** Interrupts, waits, stops by force, waits, and abandons what is left (see the class comment). Never throws. */
    public Ending end(Thread t, String analysisId, String bundle, long bundleId, String reason) {
        t.interrupt();
        if (joined(t, COOPERATIVE_GRACE)) return Ending.STOPPED;
        boolean forced = forceStop(t);
        if (forced && joined(t, FORCE_GRACE)) {
            LOG.warn("{}: ignored interruption for {} ms after it {}: stopped by force", analysisId, COOPERATIVE_GRACE.toMillis(), reason);
            return Ending.STOPPED_BY_FORCE;
        }
        Abandoned a = new Abandoned(analysisId, bundle, bundleId, t, Instant.now(), reason);
        abandoned.add(a);
        LOG.warn(a.describe());
        return Ending.ABANDONED;
    }

    /** Thread.stop where Java still has it (17-19); false where it throws UnsupportedOperationException (20+). */
    @SuppressWarnings({"deprecation", "removal"})
    static boolean forceStop(Thread t) {
        try {
            t.stop();
            return true;
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }

    private static boolean joined(Thread t, Duration d) {
        try {
            t.join(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !t.isAlive();
    }

    /** The abandoned threads still alive, oldest first (the ended ones are forgotten). */
    public List<Abandoned> stillRunning() {
        abandoned.removeIf(a -> !a.alive());
        return List.copyOf(abandoned);
    }

    /** The bundle of abandoned threads went away: try again to stop them (their code is gone; nothing may wait on them). */
    public void bundleGone(long bundleId) {
        for (Abandoned a : new ArrayList<>(abandoned)) {
            if (a.bundleId() == bundleId && a.alive()) {
                a.thread().interrupt();
                forceStop(a.thread());
            }
        }
        abandoned.removeIf(a -> !a.alive());
    }

    /** Every live thread of the group (the running analysis and the abandoned ones), for tests and diagnostics. */
    public List<Thread> live() {
        Thread[] ts = new Thread[group.activeCount() + 8];
        int n = group.enumerate(ts, true);
        List<Thread> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(ts[i]);
        return out;
    }
}
