package org.refusallab.platform.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.refusallab.platform.AnalysisThreads;
import org.refusallab.platform.Section;

/**
 * The fault suite's runaway analyses inside a real framework: a loop that ignores interruption, a deadlock, one that
 * runs out of memory, one that calls System.exit / Runtime.exit / Runtime.halt, a bad timeoutSeconds from
 * Configuration Admin, and a bundle registering the id of a running analysis twice. Each asserts the exact section,
 * how long the runner was blocked, and that the next analysis ran.
 */
class RunawayAnalysisTest {

    /** Java 17-19 still has Thread.stop; from 20 on it throws and a spinning thread can only be abandoned. */
    static final boolean STOP_WORKS = Runtime.version().feature() < 20;
    static final long GRACE_MS = AnalysisThreads.COOPERATIVE_GRACE.toMillis() + AnalysisThreads.FORCE_GRACE.toMillis();
    static final String FORCED = "; it ignored interruption and was stopped by force (Thread.stop)";
    static final String ABANDONED = "; it could not be stopped and was abandoned: it still runs in the background (see the"
            + " report's problems and lab:list) and the next analysis ran at once";

    PlatformFixture platform;

    @BeforeEach
    void start() throws Exception {
        platform = new PlatformFixture("{\"analyses\": {\"spin\": {\"parameters\": {\"timeoutSeconds\": 1}},"
                + " \"deadlock\": {\"parameters\": {\"timeoutSeconds\": 1}}}}");
        platform.installAndStart("good");
    }

    @AfterEach
    void stop() throws Exception {
        platform.close();
    }

    static boolean threadAlive(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith(prefix) && t.isAlive());
    }

    static long spins(Bundle spin) throws Exception {
        return spin.loadClass("org.refusallab.platform.testbundles.spin.SpinAnalysis").getField("spins").getLong(null);
    }

    @Test
    void aLoopIgnoringInterruptionIsStoppedWithinItsLimitPlusTheGraceAndTheNextAnalysisRuns() throws Exception {
        Bundle spin = platform.installAndStart("spin");
        long t0 = System.nanoTime();
        Map<String, Section> s = PlatformFixture.byId(platform.runner().runAll(Set.of("spin")));
        long blockedMs = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("spin: runner blocked %d ms (limit 1000 ms + grace %d ms)%n", blockedMs, GRACE_MS);
        assertTrue(blockedMs < 1000 + GRACE_MS + 500, "blocked " + blockedMs + " ms");
        assertEquals("timed out after 1 s (limit: parameter timeoutSeconds)" + (STOP_WORKS ? FORCED : ABANDONED), s.get("spin").errorLine());
        if (STOP_WORKS) {
            assertFalse(threadAlive("analysis-spin-"), "the spinning thread is gone");
            long before = spins(spin);
            Thread.sleep(200);
            assertEquals(before, spins(spin), "nothing spins any more");
            assertEquals(List.of(), platform.runner().abandoned());
        }
        Section good = platform.runner().runAll(Set.of("good")).get(0);
        assertEquals(Section.Status.OK, good.status(), good.error());
    }

    @Test
    void removingTheBundleOfARunningAnalysisStopsTheWaitAtOnce() throws Exception {
        platform.configure("spin", Map.of("timeoutSeconds", "600"));
        Bundle spin = platform.installAndStart("spin");
        CompletableFuture<List<Section>> run = CompletableFuture.supplyAsync(() -> platform.runner().runAll(Set.of("spin")));
        PlatformFixture.await(() -> threadAlive("analysis-spin-"), "the analysis starts");
        long t0 = System.nanoTime();
        spin.uninstall();
        Section s = run.get(GRACE_MS + 2000, TimeUnit.MILLISECONDS).get(0);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("spin: runner freed %d ms after the bundle was uninstalled%n", ms);
        assertEquals("stopped: its bundle was removed while it ran" + (STOP_WORKS ? FORCED : ABANDONED), s.errorLine());
        assertTrue(ms < GRACE_MS + 1000, ms + " ms");
        if (STOP_WORKS) assertFalse(threadAlive("analysis-spin-"));
    }

    @Test
    void aDeadlockedAnalysisIsAbandonedListedAndTheNextRunsAtOnce() throws Exception {
        Bundle deadlock = platform.installAndStart("deadlock");
        long t0 = System.nanoTime();
        Section s = platform.runner().runAll(Set.of("deadlock")).get(0);
        long blockedMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(blockedMs < 1000 + GRACE_MS + 500, "blocked " + blockedMs + " ms");
        // blocked on a monitor, the thread wakes neither for interrupt() nor for Thread.stop
        assertEquals("timed out after 1 s (limit: parameter timeoutSeconds)" + ABANDONED, s.errorLine());
        List<AnalysisThreads.Abandoned> left = platform.runner().abandoned();
        assertEquals(1, left.size());
        assertEquals("deadlock", left.get(0).analysisId());
        assertEquals(Thread.State.BLOCKED, left.get(0).thread().getState());
        assertTrue(left.get(0).describe().startsWith("analysis deadlock (test.deadlock, bundle " + deadlock.getBundleId()
                + ") was abandoned at "), left.get(0).describe());
        assertTrue(left.get(0).describe().endsWith("(timed out after 1 s) and is still running in the background (thread "
                + left.get(0).thread().getName() + ", state BLOCKED)"), left.get(0).describe());
        // its own helper thread belongs to the tracked group too
        assertTrue(platform.runner().threads().live().stream().anyMatch(t -> t.getName().equals("deadlock-helper")));
        long t1 = System.nanoTime();
        Section good = platform.runner().runAll(Set.of("good")).get(0);
        assertEquals(Section.Status.OK, good.status(), good.error());
        assertTrue((System.nanoTime() - t1) / 1_000_000 < 1000, "the next analysis ran at once");
    }

    @Test
    void anAnalysisRunningOutOfMemoryFailsAloneAndTheNextRuns() throws Exception {
        platform.installAndStart("oom");
        Section s = platform.runner().runAll(Set.of("oom")).get(0);
        assertEquals("OutOfMemoryError: Java heap space", s.errorLine());
        assertTrue(s.error().contains("OomAnalysis.run"), s.error());
        Section good = platform.runner().runAll(Set.of("good")).get(0);
        assertEquals(Section.Status.OK, good.status(), good.error());
        assertEquals(List.of(0.0, 6.0, 12.0, 18.0), PlatformFixture.values(good));
    }

    @Test
    void exitHaltAndRuntimeExitFailTheAnalysisAndTheProcessGoesOn() throws Exception {
        platform.installAndStart("exit");
        assertEquals(List.of(), platform.runner().resolve().problems(), "the woven bundle loads and activates");
        String who = "org.refusallab.platform.testbundles.exit.ExitAnalysis in bundle test.exit 1.0.0";
        String tail = ": an analysis may not end the process (refused by the platform's exit guard)";
        assertEquals("ExitRefused: System.exit(3) called by " + who + tail, platform.runner().runAll(Set.of("exit")).get(0).errorLine());
        platform.configure("exit", Map.of("how", "halt"));
        assertEquals("ExitRefused: Runtime.halt(4) called by " + who + tail, platform.runner().runAll(Set.of("exit")).get(0).errorLine());
        platform.configure("exit", Map.of("how", "runtime-exit"));
        assertEquals("ExitRefused: Runtime.exit(5) called by " + who + tail, platform.runner().runAll(Set.of("exit")).get(0).errorLine());
        assertEquals(Section.Status.OK, platform.runner().runAll(Set.of("good")).get(0).status());
    }

    @Test
    void aBadTimeoutFromConfigurationAdminFailsThatAnalysisWithoutRunningIt() throws Exception {
        platform.configure("good", Map.of("timeoutSeconds", "soon"));
        Section s = platform.runner().runAll(Set.of("good")).get(0);
        assertEquals("parameter timeoutSeconds = 'soon' (from Configuration Admin refusallab.analysis.good) is not a positive"
                + " number of seconds; the analysis did not run", s.errorLine());
        assertNull(s.result());
        assertEquals("soon", s.parameters().get("timeoutSeconds"), "the page shows the value it ran with");
    }

    @Test
    void twoAnalysesWithTheIdOfARunningOneWaitTheirTurnAndOneWins() throws Exception {
        platform.configure("slow", Map.of("timeoutSeconds", "2"));
        platform.runner().runAll(Set.of("good"));
        Bundle slow = platform.installAndStart("slow");
        CompletableFuture<List<Section>> run = CompletableFuture.supplyAsync(() -> platform.runner().runAll(Set.of("slow")));
        PlatformFixture.await(() -> threadAlive("analysis-slow-"), "the slow analysis starts");
        Bundle twins = platform.install("twins");
        twins.start();
        PlatformFixture.await(() -> twins.getRegisteredServices() != null && twins.getRegisteredServices().length == 2, "both twins register");
        Section first = run.get(10, TimeUnit.SECONDS).get(0);
        assertEquals("test.slow", first.bundle());
        assertEquals("timed out after 2 s (limit: parameter timeoutSeconds)", first.errorLine(), "the running one was not disturbed");

        Set<String> touched = platform.runner().runChanged(Set.of());
        assertEquals(Set.of("slow"), touched, "the new winner of the id runs");
        Section now = PlatformFixture.byId(platform.runner().sections()).get("slow");
        assertEquals("test.twins", now.bundle());
        assertEquals(Section.Status.OK, now.status(), now.error());
        String twin = "test.twins 1.0.0 (bundle " + twins.getBundleId() + ")";
        assertEquals(List.of("analysis id 'slow' is provided by 3 bundles: using " + twin + "; ignoring " + twin + ", test.slow 1.0.0 (bundle "
                + slow.getBundleId() + ") (rule: highest service.ranking, then highest bundle version, then most recently installed)"),
                platform.runner().problems());
    }
}
