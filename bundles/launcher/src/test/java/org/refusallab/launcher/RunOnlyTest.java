package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.platform.Section;
import org.refusallab.report.Report;
import org.refusallab.report.SiteHistory;
import org.refusallab.report.SitePublisher;

/**
 * "run --only good" in a fresh process after a full run (one framework per JVM: the earlier run is the report folder
 * as it published it, with the provenance this lab computes): good is re-run, swap keeps its last section (marked as
 * not run, with its run), and the earlier run's folder stays byte-for-byte.
 */
class RunOnlyTest {

    @TempDir
    Path root;

    static final String STUDY = "{\"name\": \"only\"}\n";

    @Test
    void onlyReRunsTheNamedAnalysisAndKeepsTheOthers() throws Exception {
        Path config = Files.createDirectories(root.resolve("config"));
        Files.writeString(config.resolve("study.json"), STUDY);
        SiteHistory.Provenance same = new SiteHistory.Provenance("preloaded:fake-checkpoint",
                StudySetup.configurationHash(config.resolve("study.json"), Map.of()));
        Path site = root.resolve("site");
        Report.Summary summary = new Report.Summary("only", Instant.now(), Duration.ZERO, Map.of(), Map.of(), List.of(), Map.of(), List.of());
        Section swapBefore = new Section("swap", "Hot-swapped analysis", 40, "test.swap", "1.0.0", Section.Status.OK, null, Duration.ofSeconds(1),
                Map.of(), new AnalysisResult("swap from the full run", List.of(), List.of(), List.of()));
        Section goodBefore = new Section("good", "Good analysis", 10, "test.good", "1.0.0", Section.Status.OK, null, Duration.ofSeconds(1),
                Map.of(), new AnalysisResult("good from the full run", List.of(), List.of(), List.of()));
        Path full = new SiteHistory(new SitePublisher()).publish(new Report(summary, List.of(goodBefore, swapBefore)), site, same, SiteHistory.Carry.NONE).run();
        Map<String, String> fullDigest = Digests.of(full);

        StringWriter out = new StringWriter();
        try (Lab lab = PlatformTestSupport.startLab(root, STUDY, Map.of())) {
            for (String b : List.of("good", "swap-v1")) lab.host().install(TestBundles.jar(b)).start();
            assertEquals(0, RunCommand.runAndPublish(lab, Set.of("good"), site, new PrintWriter(out, true), new PrintWriter(new StringWriter(), true)));
        }
        Path latest = Digests.latest(site);
        assertTrue(!latest.equals(full));
        assertTrue(out.toString().lines().anyMatch(l -> l.matches("KEPT\\s+swap\\s+not run: its section from run " + full.getFileName() + " is kept")), out.toString());
        String swap = Files.readString(latest.resolve("swap.html"));
        assertTrue(swap.contains("Kept: this analysis was not run this time") && swap.contains("swap from the full run"), swap);
        assertTrue(Files.readString(latest.resolve("index.html")).contains("NOT RUN"));
        assertTrue(Files.readString(latest.resolve("good.html")).contains("greeting=default greeting"), "good was re-run");
        assertEquals(fullDigest, Digests.of(full));
    }
}
