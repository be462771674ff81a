package org.refusallab.platform.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.osgi.framework.Bundle;
import org.refusallab.platform.AnalysisWatcher;
import org.refusallab.platform.Section;

/**
 * Watch mode inside the framework: with a runner and its watcher live, analysis bundles are installed, updated and
 * uninstalled, and a Configuration Admin configuration changes; the watcher re-runs exactly what changed and drops
 * what left. Each refresh is recorded with the runner's sections as they were right after it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HotSwapTest {

    /** One refresh of the watcher: the ids it re-ran or removed, and every section right after it. */
    record Refresh(Set<String> touched, Map<String, Section> sections) { }

    static PlatformFixture platform;
    static ScheduledExecutorService worker;
    static AnalysisWatcher watcher;
    static final BlockingQueue<Refresh> refreshes = new LinkedBlockingQueue<>();
    static Bundle swap;

    @BeforeAll
    static void startWatching() throws Exception {
        platform = new PlatformFixture("{}");
        platform.installAndStart("good");
        platform.runner().runAll(Set.of());
        worker = Executors.newSingleThreadScheduledExecutor();
        // the launcher's debounce (Lab.DEBOUNCE_MS): an update is an unregistration followed by a registration
        watcher = new AnalysisWatcher(platform.context(), platform.runner(), worker, Duration.ofMillis(300), Set.of(),
                touched -> refreshes.add(new Refresh(Set.copyOf(touched), PlatformFixture.byId(platform.runner().sections()))));
    }

    @AfterAll
    static void stop() throws Exception {
        if (watcher != null) watcher.close();
        if (worker != null) worker.shutdownNow();
        platform.close();
    }

    /** Waits for the refresh that satisfies the condition (earlier, intermediate ones are skipped). */
    static Refresh awaitRefresh(Predicate<Refresh> condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + PlatformFixture.WAIT.toNanos();
        while (true) {
            Refresh r = refreshes.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (r == null) fail(what + ": no such re-run within " + PlatformFixture.WAIT.toSeconds() + " s");
            if (condition.test(r)) return r;
        }
    }

    static String summary(Refresh r, String id) {
        Section s = r.sections().get(id);
        return s == null || s.result() == null ? null : s.result().summary();
    }

    @Test
    @Order(1)
    void anInstalledBundleRunsWhileTheOthersKeepTheirResults() throws Exception {
        Section goodBefore = PlatformFixture.byId(platform.runner().sections()).get("good");
        swap = platform.install("swap-v1");
        swap.start();
        Refresh r = awaitRefresh(x -> "swap v1".equals(summary(x, "swap")), "the new bundle's analysis runs");
        assertEquals(Set.of("swap"), r.touched());
        assertEquals("1.0.0", r.sections().get("swap").bundleVersion());
        assertSame(goodBefore, r.sections().get("good"), "the unchanged analysis was not re-run");
    }

    @Test
    @Order(2)
    void anUpdatedBundleRunsItsNewCode() throws Exception {
        long id = swap.getBundleId();
        Section goodBefore = PlatformFixture.byId(platform.runner().sections()).get("good");
        platform.update(swap, "swap-v2");
        Refresh r = awaitRefresh(x -> "swap v2".equals(summary(x, "swap")), "the updated bundle's new code runs");
        assertEquals(Set.of("swap"), r.touched());
        assertEquals("1.1.0", r.sections().get("swap").bundleVersion());
        assertEquals(id, swap.getBundleId(), "updated in place, not reinstalled");
        assertSame(goodBefore, r.sections().get("good"));
    }

    @Test
    @Order(3)
    void aConfigurationChangeReRunsOnlyItsAnalysis() throws Exception {
        Section swapBefore = PlatformFixture.byId(platform.runner().sections()).get("swap");
        platform.configure("good", Map.of("greeting", "hot-swapped greeting"));
        Refresh r = awaitRefresh(x -> x.touched().contains("good"), "the configured analysis re-runs");
        assertEquals(Set.of("good"), r.touched());
        assertEquals("greeting=hot-swapped greeting layers=3", summary(r, "good"));
        assertSame(swapBefore, r.sections().get("swap"));
    }

    @Test
    @Order(4)
    void anUninstalledBundleLeavesTheResults() throws Exception {
        swap.uninstall();
        Refresh r = awaitRefresh(x -> !x.sections().containsKey("swap"), "the uninstalled analysis is dropped");
        assertEquals(Set.of("swap"), r.touched());
        assertEquals(Set.of("good"), r.sections().keySet());
        assertFalse(platform.runner().resolve().winners().stream().anyMatch(c -> c.id().equals("swap")));
    }

    @Test
    @Order(5)
    void uninstallingABundleStopsItsRunningAnalysisAndWatchingGoesOn() throws Exception {
        Bundle endless = platform.installAndStart("endless"); // runs until cancelled: the watcher's worker is now busy with it
        PlatformFixture.await(() -> Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("analysis-endless-")),
                "the watcher starts the new analysis");
        long t0 = System.nanoTime();
        endless.uninstall();
        Refresh stopped = awaitRefresh(x -> x.sections().containsKey("endless"), "the stopped analysis is reported");
        System.out.printf("running analysis stopped %d ms after its bundle was uninstalled%n", (System.nanoTime() - t0) / 1_000_000);
        assertEquals("stopped: its bundle was removed while it ran", stopped.sections().get("endless").errorLine());
        awaitRefresh(x -> x.touched().contains("endless") && !x.sections().containsKey("endless"), "the departed analysis is dropped");

        Bundle again = platform.install("swap-v1");
        again.start();
        Refresh r = awaitRefresh(x -> "swap v1".equals(summary(x, "swap")), "the watcher still re-runs after a stopped analysis");
        assertTrue(r.sections().containsKey("good"));
    }
}
