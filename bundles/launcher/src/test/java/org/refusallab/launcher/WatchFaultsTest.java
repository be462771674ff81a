package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * "watch" (a Lab with fileinstall and its watcher) meeting each fault while it runs: a corrupt jar, an unresolvable
 * bundle, an analysis calling System.exit(3), an analysis looping forever under a long limit with a healthy bundle
 * dropped behind it and the looping jar then removed, a Configuration Admin file with a bad value, and the deploy
 * folder removed. Watching goes on after each; every earlier run of the report stays byte-for-byte as published.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WatchFaultsTest {

    @TempDir
    static Path root;
    static Lab lab;
    static Path site;
    static Path deploy;
    static Path firstRun;
    static Map<String, String> firstRunDigest;
    /** How long a watched change may take to show: generous, because a busy 2-core machine (parallel builds) took over 15 s. */
    static final Duration LIMIT = Duration.ofSeconds(60);

    @BeforeAll
    static void startWatching() throws Exception {
        // the looping analysis gets a long limit (as under the old one-hour default): only removing its jar frees the runner
        lab = PlatformTestSupport.startLab(root, "{\"name\": \"watch faults\", \"analyses\": {\"spin\": {\"parameters\": {\"timeoutSeconds\": 600}}}}", Map.of());
        lab.host().install(TestBundles.jar("good")).start();
        lab.runAll(Set.of());
        site = root.resolve("site");
        firstRun = lab.publish(site).run();
        firstRunDigest = Digests.of(firstRun);
        lab.watch(site);
        deploy = lab.host().deployDir();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            assertEquals(firstRunDigest, Digests.of(firstRun), "the first published run changed");
        } finally {
            if (lab != null) lab.close();
        }
    }

    static void drop(Path jar, String name) throws Exception {
        Path tmp = deploy.resolve("." + name + ".part");
        Files.copy(jar, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, deploy.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static long await(BooleanSupplier condition, String what) throws Exception {
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < LIMIT.toNanos()) {
            if (condition.getAsBoolean()) {
                long ms = (System.nanoTime() - t0) / 1_000_000;
                System.out.printf("watch faults: %s after %d ms%n", what, ms);
                return ms;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(what + ": not within " + LIMIT.toSeconds() + " s; problems: " + lab.problems());
    }

    static boolean indexSays(String text) {
        try {
            return Digests.page(site, "index.html").contains(text);
        } catch (Exception e) {
            return false;
        }
    }

    static boolean pageSays(String page, String text) {
        try {
            return Digests.page(site, page).contains(text);
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    @Order(1)
    void aCorruptJarIsReportedAndPublished() throws Exception {
        byte[] random = new byte[2048];
        new Random(7).nextBytes(random);
        Path tmp = deploy.resolve(".corrupt.part");
        Files.write(tmp, random);
        Files.move(tmp, deploy.resolve("corrupt.jar"), StandardCopyOption.ATOMIC_MOVE);
        String line = "failed bundle: corrupt.jar in " + deploy + " is not a readable jar (ZipException: zip END header not found): not installed";
        await(() -> lab.problems().contains(line) && indexSays(line), "corrupt jar reported");
        Files.delete(deploy.resolve("corrupt.jar"));
        await(() -> !indexSays("corrupt.jar"), "corrupt jar gone from the report");
    }

    @Test
    @Order(2)
    void anUnresolvableBundleIsReportedWithTheResolversReason() throws Exception {
        drop(TestBundles.jar("unresolvable"), "unresolvable.jar");
        String start = "failed bundle: bundle test.unresolvable 1.0.0 (file:" + deploy.resolve("unresolvable.jar") + ") does not resolve: Unable to resolve";
        await(() -> lab.problems().stream().anyMatch(p -> p.startsWith(start) && p.contains("osgi.wiring.package=com.example.nowhere"))
                && indexSays(start), "unresolvable bundle reported");
        Files.delete(deploy.resolve("unresolvable.jar"));
        await(() -> !indexSays("test.unresolvable"), "unresolvable bundle gone from the report");
    }

    @Test
    @Order(3)
    void anAnalysisCallingSystemExitFailsAndWatchingGoesOn() throws Exception {
        drop(TestBundles.jar("exit"), "exit.jar");
        await(() -> pageSays("exit.html", "ExitRefused: System.exit(3) called by org.refusallab.platform.testbundles.exit.ExitAnalysis"),
                "exit analysis failed and published");
        assertTrue(pageSays("good.html", "greeting=default greeting"), "the other analysis stays");
        Files.delete(deploy.resolve("exit.jar"));
        await(() -> !pageSays("exit.html", "ExitRefused"), "exit analysis removed");
    }

    @Test
    @Order(4)
    void removingALoopingJarFreesTheWatcherForTheBundleDroppedBehindIt() throws Exception {
        drop(TestBundles.jar("spin"), "spin.jar");
        await(() -> Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("analysis-spin-")), "the loop runs");
        drop(TestBundles.jar("swap-v1"), "swap.jar");
        Thread.sleep(2500); // fileinstall and the debounce have seen it: it waits behind the loop
        assertFalse(pageSays("swap.html", "swap v1"), "the healthy bundle waits while the loop has the runner");
        long t0 = System.nanoTime();
        Files.delete(deploy.resolve("spin.jar"));
        await(() -> pageSays("swap.html", "swap v1"), "the healthy bundle ran after the looping jar was removed");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 8000, "freed after " + ms + " ms");
        assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("analysis-spin-") && t.isAlive()),
                "the loop no longer burns a core");
        await(() -> !pageSays("spin.html", "Spinning"), "the removed analysis left the report");
    }

    @Test
    @Order(5)
    void aConfigurationFileWithABadValueFailsThatAnalysisAndAFixRunsItAgain() throws Exception {
        Path tmp = deploy.resolve(".cfg.part");
        Files.writeString(tmp, "timeoutSeconds = soon\n");
        Files.move(tmp, deploy.resolve("refusallab.analysis.good.cfg"), StandardCopyOption.ATOMIC_MOVE);
        String error = "parameter timeoutSeconds = &#39;soon&#39; (from Configuration Admin refusallab.analysis.good) is not a positive number"
                + " of seconds; the analysis did not run";
        await(() -> pageSays("good.html", error), "bad value reported on the page");
        // the failed analysis shows its last good result, marked stale, with the run it came from
        assertTrue(pageSays("good.html", "Stale: this analysis failed in this run"));
        assertTrue(pageSays("good.html", "greeting=default greeting"));
        Files.writeString(tmp, "timeoutSeconds = 30\ngreeting = fixed\n");
        Files.move(tmp, deploy.resolve("refusallab.analysis.good.cfg"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        await(() -> pageSays("good.html", "greeting=fixed") && !pageSays("good.html", "Stale"), "fixed configuration ran");
    }

    @Test
    @Order(6)
    void removingTheDeployFolderIsReportedAndWatchingGoesOn() throws Exception {
        org.refusallab.report.SitePublisher.class.getName(); // (the report module is on the class path)
        try (var s = Files.walk(deploy)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
        String line = "deploy folder " + deploy + " does not exist (removed?): the bundles it held were uninstalled; create it again to deploy bundles";
        await(() -> lab.problems().contains(line) && indexSays(line.replace("?", "?")), "removed deploy folder reported");
        await(() -> !pageSays("swap.html", "swap v1"), "the bundles of the removed folder left the report");
        assertTrue(pageSays("good.html", "Good analysis"), "the built-in analysis stays");
        Files.createDirectories(deploy);
        drop(TestBundles.jar("swap-v2"), "swap.jar");
        await(() -> pageSays("swap.html", "swap v2") && !indexSays("does not exist"), "a jar dropped into the recreated folder runs");
    }
}
