package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.ServiceReference;

/**
 * "watch" on a real embedded Felix with fileinstall (its default 1 s poll): a bundle dropped into, replaced in and
 * removed from the deploy folder, and a Configuration Admin file, each re-run and republished while running. The
 * latency printed is from the file operation to the new report being in place.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HotSwapTest {

    @TempDir
    static Path root;
    static Lab lab;
    static Path site;
    static Path deploy;
    static final Duration LIMIT = Duration.ofSeconds(10);

    @BeforeAll
    static void startWatching() throws Exception {
        lab = PlatformTestSupport.startLab(root, "{\"name\": \"hot swap\"}", Map.of());
        lab.host().install(TestBundles.jar("good")).start();
        lab.host().install(TestBundles.jar("dashed")).start();
        lab.runAll(java.util.Set.of());
        site = root.resolve("site");
        lab.publish(site);
        lab.registerShellCommands(site);
        lab.watch(site);
        deploy = lab.host().deployDir();
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    /** Copies under a dot-name (fileinstall ignores those) and renames into place, as the README tells users to. */
    static void drop(Path jar, String name) throws Exception {
        Path tmp = deploy.resolve("." + name + ".part");
        Files.copy(jar, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, deploy.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static long waitFor(long t0, Predicate<Path> condition, String what) throws Exception {
        while (System.nanoTime() - t0 < LIMIT.toNanos()) {
            if (condition.test(site)) {
                long ms = (System.nanoTime() - t0) / 1_000_000;
                System.out.printf("hot swap: %s after %d ms%n", what, ms);
                return ms;
            }
            Thread.sleep(25);
        }
        throw new AssertionError(what + " did not happen within " + LIMIT.toSeconds() + " s");
    }

    /** A page of the latest run of the report folder (site/runs/&lt;time&gt;/, where site/index.html points). */
    static boolean pageSays(Path site, String page, String text) {
        try {
            Path run = org.refusallab.report.SiteHistory.latestRun(site);
            return run != null && Files.exists(run.resolve(page)) && Files.readString(run.resolve(page)).contains(text);
        } catch (java.io.IOException e) {
            return false; // caught mid-swap: try again
        }
    }

    @Test
    @Order(1)
    void aDroppedBundleIsRunAndPublished() throws Exception {
        Path v1 = TestBundles.jar("swap-v1");
        long t0 = System.nanoTime();
        drop(v1, "swap.jar");
        waitFor(t0, s -> pageSays(s, "swap.html", "swap v1"), "new bundle published");
        assertTrue(pageSays(site, "index.html", "Hot-swapped analysis"));
        assertTrue(pageSays(site, "good.html", "greeting=default greeting"), "the other analysis stays in the report");
    }

    @Test
    @Order(2)
    void aReplacedBundleRunsItsNewCode() throws Exception {
        Path v2 = TestBundles.jar("swap-v2");
        long t0 = System.nanoTime();
        drop(v2, "swap.jar");
        waitFor(t0, s -> pageSays(s, "swap.html", "swap v2"), "replaced bundle republished");
        assertTrue(pageSays(site, "swap.html", "test.swap 1.1.0"));
    }

    @Test
    @Order(3)
    void aConfigurationFileReRunsItsAnalysis() throws Exception {
        long t0 = System.nanoTime();
        Path tmp = deploy.resolve(".cfg.part");
        Files.writeString(tmp, "greeting = from configuration admin\n");
        Files.move(tmp, deploy.resolve("refusallab.analysis.good.cfg"), StandardCopyOption.ATOMIC_MOVE);
        waitFor(t0, s -> pageSays(s, "good.html", "greeting=from configuration admin"), "configuration change republished");
    }

    /**
     * fileinstall reads the first dash of a file name as a factory configuration separator: this file becomes factory
     * PID refusallab.analysis.dashed with name id-analysis; the runner still finds it for the id dashed-id-analysis.
     */
    @Test
    @Order(4)
    void aConfigurationFileForAnIdWithDashesReRunsItsAnalysis() throws Exception {
        assertTrue(pageSays(site, "dashed-id-analysis.html", "greeting=dashed default"));
        long t0 = System.nanoTime();
        Path tmp = deploy.resolve(".dashed.part");
        Files.writeString(tmp, "greeting = from a dashed cfg\n");
        Files.move(tmp, deploy.resolve("refusallab.analysis.dashed-id-analysis.cfg"), StandardCopyOption.ATOMIC_MOVE);
        waitFor(t0, s -> pageSays(s, "dashed-id-analysis.html", "greeting=from a dashed cfg"), "dashed-id configuration change republished");
    }

    @Test
    @Order(5)
    void aRemovedBundleLeavesTheReport() throws Exception {
        long t0 = System.nanoTime();
        Files.delete(deploy.resolve("swap.jar"));
        waitFor(t0, s -> !pageSays(s, "swap.html", "") && pageSays(s, "index.html", "Good analysis"), "removed bundle unpublished");
        assertTrue(pageSays(site, "good.html", "greeting=from configuration admin"));
    }

    @Test
    @Order(6)
    void theGogoCommandsAreRegistered() throws Exception {
        ServiceReference<?>[] refs = lab.host().context().getServiceReferences((String) null, "(osgi.command.scope=lab)");
        assertEquals(1, refs.length);
        assertEquals(java.util.List.of("list", "run", "publish"), java.util.List.of((String[]) refs[0].getProperty("osgi.command.function")));
    }
}
