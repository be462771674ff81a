package org.refusallab.platform.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.wiring.FrameworkWiring;
import org.refusallab.platform.Section;

/**
 * 100 install / run / update / run / uninstall cycles of an analysis bundle in one framework, as a long watch session
 * does: heap, threads and loaded classes stay flat (old bundle class loaders are collected), and an analysis stopped
 * by force does not pin its class loader either.
 */
class BundleCyclesTest {

    static PlatformFixture platform;

    @BeforeAll
    static void start() throws Exception {
        platform = new PlatformFixture("{\"analyses\": {\"spin\": {\"parameters\": {\"timeoutSeconds\": 0.2}}}}");
    }

    @AfterAll
    static void stop() throws Exception {
        platform.close();
    }

    /** What fileinstall does after an uninstall: the old revisions leave the framework. */
    static void refresh() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        platform.context().getBundle(0).adapt(FrameworkWiring.class).refreshBundles(null, e -> {
            if (e.getType() == FrameworkEvent.PACKAGES_REFRESHED) done.countDown();
        });
        assertTrue(done.await(10, TimeUnit.SECONDS), "refresh finished");
    }

    static void cycle() throws Exception {
        Bundle b = platform.installAndStart("swap-v1");
        Section s1 = platform.runner().runAll(Set.of("swap")).get(0);
        assertEquals("swap v1", s1.result().summary());
        platform.update(b, "swap-v2");
        platform.awaitAnalysisOf(b);
        Section s2 = platform.runner().runAll(Set.of("swap")).get(0);
        assertEquals("swap v2", s2.result().summary());
        b.uninstall();
        refresh();
        platform.runner().runChanged(Set.of()); // the runner forgets the departed analysis, as in watch mode
    }

    record Usage(long heap, int threads, int classes) { }

    static Usage usage() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        Runtime rt = Runtime.getRuntime();
        return new Usage(rt.totalMemory() - rt.freeMemory(), ManagementFactory.getThreadMXBean().getThreadCount(),
                ManagementFactory.getClassLoadingMXBean().getLoadedClassCount());
    }

    @Test
    void aHundredCyclesKeepHeapThreadsAndClassesFlat() throws Exception {
        for (int i = 0; i < 10; i++) cycle(); // warm-up: JIT, SCR, the framework's own caches
        Usage before = usage();
        long t0 = System.nanoTime();
        for (int i = 10; i < 100; i++) cycle();
        Usage after = usage();
        System.out.printf("90 cycles in %d ms: heap %+d KB, threads %+d, loaded classes %+d (before: %s)%n",
                (System.nanoTime() - t0) / 1_000_000, (after.heap() - before.heap()) / 1024, after.threads() - before.threads(),
                after.classes() - before.classes(), before);
        // each cycle loads two analysis classes and their DS bookkeeping: kept, 90 cycles would add 180 classes or more
        assertTrue(after.classes() - before.classes() < 30, "loaded classes grew: " + before + " -> " + after);
        assertTrue(after.threads() - before.threads() <= 2, "threads grew: " + before + " -> " + after);
        assertTrue(after.heap() - before.heap() < 8L << 20, "heap grew: " + before + " -> " + after);
        assertEquals(Set.of(), Set.copyOf(platform.runner().sections().stream().map(Section::id).toList()));
    }

    @Test
    void anAnalysisStoppedByForceDoesNotPinItsBundleClassLoader() throws Exception {
        if (Runtime.version().feature() >= 20) return; // no Thread.stop: such a thread stays (and is listed) until the process ends
        Bundle spin = platform.installAndStart("spin");
        WeakReference<ClassLoader> loader = new WeakReference<>(spin.loadClass("org.refusallab.platform.testbundles.spin.SpinAnalysis").getClassLoader());
        Section s = platform.runner().runAll(Set.of("spin")).get(0);
        assertTrue(s.errorLine().endsWith("stopped by force (Thread.stop)"), s.errorLine());
        spin.uninstall();
        refresh();
        platform.runner().runChanged(Set.of());
        for (int i = 0; i < 20 && loader.get() != null; i++) {
            System.gc();
            Thread.sleep(50);
        }
        assertNull(loader.get(), "the stopped analysis's bundle class loader was collected");
    }
}
