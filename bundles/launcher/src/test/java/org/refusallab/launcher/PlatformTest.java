package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.refusallab.report.Report;

/**
 * The platform inside a real embedded Felix (the launcher's own FrameworkHost, with SCR and Configuration Admin) and
 * real analysis bundles built by bnd: registration, fault isolation, duplicate ids, --only.
 */
class PlatformTest {

    @TempDir
    static Path root;
    static Lab lab;
    static Map<String, Report.Section> sections;
    static Bundle slowBundle;
    static long slowMillis;

    static final String STUDY = """
            {"name": "platform test",
             "parameters": {"greeting": "from study.json", "nested": {"key": 3}},
             "analyses": {"slow": {"parameters": {"timeoutSeconds": 1}}, "disabled-one": {"enabled": false}}}
            """;

    @BeforeAll
    static void startAndRunAll() throws Exception {
        Path jars = Files.createDirectories(root.resolve("jars"));
        lab = PlatformTestSupport.startLab(root, STUDY, Map.of());
        for (String[] b : List.of(new String[] {"test.good", "1.0.0", "good"}, new String[] {"test.throwing", "1.0.0", "throwing"},
                new String[] {"test.slow", "1.0.0", "slow"}, new String[] {"test.malformed", "1.0.0", "malformed"},
                // v2 installed first: the version rule must beat "most recently installed"
                new String[] {"test.dup", "2.0.0", "dup.v2"}, new String[] {"test.dup", "1.0.0", "dup.v1"})) {
            Bundle bundle = lab.host().install(TestBundles.build(jars, b[0], b[1], b[2]));
            bundle.start();
            if (b[0].equals("test.slow")) slowBundle = bundle;
        }
        long t0 = System.nanoTime();
        sections = lab.runAll(Set.of()).stream().collect(Collectors.toMap(Report.Section::id, Function.identity()));
        slowMillis = sections.get("slow").took().toMillis();
        System.out.printf("runAll of 5 analyses (one timing out after 1 s): %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    @Test
    void aGoodAnalysisSeesTheModelServiceAndItsParameters() {
        Report.Section good = sections.get("good");
        assertEquals(Report.Status.OK, good.status(), good.error());
        assertEquals("greeting=from study.json layers=3", good.result().summary());
        // FakeModel: logit of token v after tokens 1,2,3 is v * 6
        assertEquals(List.of(0.0, 6.0, 12.0, 18.0), java.util.Arrays.stream(good.result().figures().get(0).series().get(0).values()[0]).boxed().toList());
        assertEquals("3", good.parameters().get("nested.key"));
        assertEquals(0.0, lab.runner().shared().get("good.first-logit"));
        assertEquals("test.good", good.bundle());
    }

    @Test
    void aThrowingAnalysisIsAFailedSectionWithItsError() {
        Report.Section s = sections.get("throwing");
        assertEquals(Report.Status.FAILED, s.status());
        assertEquals("IllegalStateException: boom from the analysis", s.errorLine());
        assertTrue(s.error().contains("ThrowingAnalysis.run"), "stack trace kept for the page");
    }

    @Test
    void anAnalysisPastItsTimeoutIsCancelledAndFailed() throws Exception {
        Report.Section s = sections.get("slow");
        assertEquals(Report.Status.FAILED, s.status());
        assertEquals("timed out after 1 s (limit: parameter timeoutSeconds)", s.errorLine());
        assertTrue(slowMillis >= 1000 && slowMillis < 3000, "took " + slowMillis + " ms");
        // the analysis saw the cancellation flag (its class lives in its bundle's class loader)
        long deadline = System.currentTimeMillis() + 2000;
        boolean saw = false;
        while (!saw && System.currentTimeMillis() < deadline) {
            saw = slowBundle.loadClass("org.refusallab.launcher.testbundles.slow.SlowAnalysis").getField("sawCancellation").getBoolean(null);
            Thread.sleep(20);
        }
        assertTrue(saw);
    }

    @Test
    void aMalformedResultIsAFailedSectionNamingEachProblem() {
        Report.Section s = sections.get("malformed");
        assertEquals(Report.Status.FAILED, s.status());
        assertEquals("malformed result: figure short, series s: 2 values for 3 x labels; figure nan, series s: value 0 is NaN", s.errorLine());
    }

    @Test
    void duplicateIdsRunTheHighestVersionAndAreReported() {
        Report.Section s = sections.get("dup");
        assertEquals("dup v2", s.result().summary());
        assertEquals("2.0.0", s.bundleVersion());
        List<String> problems = lab.runner().problems();
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("analysis id 'dup' is provided by 2 bundles: using test.dup 2.0.0"), problems.get(0));
        assertTrue(problems.get(0).contains("ignoring test.dup 1.0.0"));
    }

    @Test
    void everyAnalysisRanInReportOrderAndTheSitePublishes() throws Exception {
        assertEquals(List.of("good", "throwing", "slow", "malformed", "dup"), lab.runner().sections().stream().map(Report.Section::id).toList());
        Path site = root.resolve("site");
        lab.publish(site);
        String index = Files.readString(site.resolve("index.html"));
        assertTrue(index.contains("3</strong> of <span>5</span> analyses failed"), index);
        assertTrue(index.contains("fake-checkpoint"));
        assertTrue(index.contains("analysis id &#39;dup&#39; is provided by 2 bundles"));
        assertTrue(Files.readString(site.resolve("slow.html")).contains("timed out after 1 s"));
        assertTrue(Files.exists(site.resolve("data/good/logits.csv")));
        // the good bundle carries report-templates/good.html: rendered into its page with its result
        assertTrue(Files.readString(site.resolve("good.html")).contains("<p class=\"custom-good\">first logit 0.0 of 4</p>"));
    }

    @Test
    void onlyRunsTheNamedAnalysesAndRejectsUnknownIds() throws Exception {
        List<Report.Section> ran = lab.runAll(Set.of("good"));
        assertEquals(List.of("good"), ran.stream().map(Report.Section::id).toList());
        var e = assertThrows(IllegalArgumentException.class, () -> lab.runAll(Set.of("good", "nope")));
        assertEquals("no analysis with id nope; present: good, throwing, slow, malformed, dup", e.getMessage());
    }

    @Test
    void removingABundleStopsItsRunningAnalysis() throws Exception {
        Bundle endless = lab.host().install(TestBundles.build(root.resolve("jars"), "test.endless", "1.0.0", "endless"));
        endless.start();
        try {
            var run = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return lab.runAll(Set.of("endless"));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(500);
            long t0 = System.nanoTime();
            endless.uninstall();
            List<Report.Section> ran = run.get(5, java.util.concurrent.TimeUnit.SECONDS);
            System.out.printf("running analysis stopped %d ms after its bundle was uninstalled%n", (System.nanoTime() - t0) / 1_000_000);
            assertEquals("stopped: its bundle was removed while it ran", ran.get(0).errorLine());
        } finally {
            lab.runner().runChanged(Set.of()); // drops the section of the departed analysis for the other tests
        }
    }

    @Test
    void gogoListShowsEachAnalysisAndItsLastStatus() {
        String list = new LabCommands(lab, root.resolve("site")).list();
        assertTrue(list.lines().anyMatch(l -> l.matches("30\\s+slow\\s+FAILED.*test\\.slow 1\\.0\\.0.*")), list);
        assertTrue(list.lines().anyMatch(l -> l.matches("10\\s+good\\s+OK.*")), list);
        assertTrue(list.contains("! analysis id 'dup'"));
        assertNotNull(lab.model());
    }
}
