package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "run" with every kind of misbehaving bundle in the deploy folder at once: random bytes named .jar, a bundle whose
 * imports cannot resolve, one whose activator throws, an analysis component that throws, an analysis calling
 * System.exit(3), one looping forever and one deadlocking (timeoutSeconds 1 each). The platform starts without a 30 s stall, the good
 * analysis publishes, each failure is named on the console and in the report's summary, the exit code is 1, and the
 * previous run and the user's file next to the report are byte-for-byte intact.
 */
class RunFaultsTest {

    @TempDir
    static Path root;
    static Lab lab;
    static long startMs;
    static Path site;
    static Path deploy;
    static Path firstRun;
    static Map<String, String> firstRunDigest;
    static Path userFile;
    static Map<String, String> userFileDigest;
    static int exit;
    static String out;
    static String err;

    static final String STUDY = """
            {"name": "run faults", "analyses": {"spin": {"parameters": {"timeoutSeconds": 1}}, "deadlock": {"parameters": {"timeoutSeconds": 1}}}}
            """;

    @BeforeAll
    static void runWithBrokenBundles() throws Exception {
        deploy = Files.createDirectories(root.resolve("work/deploy"));
        byte[] random = new byte[4096];
        new Random(13).nextBytes(random);
        Files.write(deploy.resolve("corrupt.jar"), random);
        for (String name : List.of("unresolvable", "activator-throws", "component-throws", "exit", "spin", "deadlock")) {
            Files.copy(TestBundles.jar(name), deploy.resolve(name + ".jar"));
        }
        long t0 = System.nanoTime();
        lab = PlatformTestSupport.startLab(root, STUDY, Map.of());
        startMs = (System.nanoTime() - t0) / 1_000_000;
        lab.host().install(TestBundles.jar("good")).start();

        site = root.resolve("site");
        // a previous good report: good alone
        lab.runAll(Set.of("good"));
        firstRun = lab.publish(site).run();
        firstRunDigest = Digests.of(firstRun);
        userFile = Files.writeString(root.resolve("notes.txt"), "the user's own notes\n");
        userFileDigest = Digests.of(userFile);

        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        exit = RunCommand.runAndPublish(lab, Set.of(), site, new PrintWriter(o, true), new PrintWriter(e, true));
        out = o.toString();
        err = e.toString();
        System.out.println(out + err);
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    @Test
    void startsWithoutWaitingForBundlesThatCanNeverStart() {
        System.out.printf("lab started in %d ms with 7 broken bundles in the deploy folder%n", startMs);
        assertTrue(startMs < 15_000, "start took " + startMs + " ms (the old 30 s stall)");
        assertFalse(lab.problems().stream().anyMatch(p -> p.contains("not loaded after")), lab.problems().toString());
    }

    @Test
    void theExitCodeIsOneAndTheGoodAnalysisPublished() throws Exception {
        assertEquals(1, exit, out + err);
        assertTrue(out.lines().anyMatch(l -> l.matches("OK\\s+good\\s+.*")), out);
        assertTrue(Digests.page(site, "good.html").contains("greeting=default greeting"));
    }

    @Test
    void systemExitFailsTheAnalysisWithAClearMessage() throws Exception {
        String line = "ExitRefused: System.exit(3) called by org.refusallab.platform.testbundles.exit.ExitAnalysis in bundle test.exit 1.0.0:"
                + " an analysis may not end the process (refused by the platform's exit guard)";
        assertTrue(out.lines().anyMatch(l -> l.matches("FAILED\\s+exit\\s+.*") && l.endsWith(line)), out);
        assertTrue(Digests.page(site, "exit.html").contains(line.replace("'", "&#39;")));
    }

    @Test
    void aLoopPastItsLimitIsStoppedAndReported() throws Exception {
        assertTrue(out.lines().anyMatch(l -> l.matches("FAILED\\s+spin\\s+.*") && l.endsWith(
                "timed out after 1 s (limit: parameter timeoutSeconds); it ignored interruption and was stopped by force (Thread.stop)")), out);
        assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("analysis-spin-") && t.isAlive()),
                "no thread keeps burning a core");
    }

    @Test
    void aDeadlockedAnalysisIsAbandonedAndShownAsStillRunningInTheShellAndTheReport() throws Exception {
        assertTrue(out.lines().anyMatch(l -> l.matches("FAILED\\s+deadlock\\s+.*") && l.endsWith("it could not be stopped and was abandoned:"
                + " it still runs in the background (see the report's problems and lab:list) and the next analysis ran at once")), out);
        String list = new LabCommands(lab, site).list();
        assertTrue(list.lines().anyMatch(l -> l.matches("\\s+deadlock\\s+RUNNING\\s+abandoned at .* \\(timed out after 1 s\\); thread analysis-deadlock-\\d+ BLOCKED")), list);
        String index = Digests.page(site, "index.html");
        assertTrue(index.contains("analysis deadlock (test.deadlock, bundle ") && index.contains("is still running in the background (thread analysis-deadlock-"), index);
        assertTrue(err.contains("refusal-lab: warning: analysis deadlock (test.deadlock, bundle "), err);
    }

    @Test
    void everyBrokenBundleIsNamedWithItsReasonOnTheConsoleAndInTheSummary() throws Exception {
        String index = Digests.page(site, "index.html");
        List<String> expectedStarts = List.of(
                "failed bundle: corrupt.jar in " + deploy + " is not a readable jar (ZipException: zip END header not found): not installed",
                "failed bundle: bundle test.unresolvable 1.0.0 (file:" + deploy.resolve("unresolvable.jar") + ") does not resolve: Unable to resolve test.unresolvable",
                "failed bundle: bundle test.activator.throws 1.0.0 (file:" + deploy.resolve("activator-throws.jar") + ") did not start: Activator start error in bundle test.activator.throws",
                "bundle test.component.throws 1.0.0: its analysis component failed to activate: component org.refusallab.platform.testbundles.componentthrows.ThrowingComponent: java.lang.IllegalStateException: component activation exploded on purpose");
        for (String start : expectedStarts) {
            assertTrue(err.lines().anyMatch(l -> l.startsWith("refusal-lab: warning: " + start)), start + "\n---\n" + err);
            assertTrue(index.contains(start.replace("'", "&#39;")), start);
        }
        assertTrue(err.contains("osgi.wiring.package=com.example.nowhere"), "the resolver's reason: " + err);
        assertTrue(err.contains("activator exploded on purpose"), err);
    }

    @Test
    void thePreviousRunAndTheUsersFileAreByteForByteIntact() throws Exception {
        assertEquals(firstRunDigest, Digests.of(firstRun));
        assertEquals(userFileDigest, Digests.of(userFile));
        assertTrue(Files.readString(site.resolve("index.html")).contains("runs/" + Digests.latest(site).getFileName() + "/index.html"));
        // nothing beside the report and the user's file: no staging folder in the user's tree
        try (var s = Files.list(root)) {
            assertEquals(Set.of("site", "notes.txt", "work", "config"), Set.copyOf(s.map(p -> p.getFileName().toString()).toList()));
        }
    }
}
