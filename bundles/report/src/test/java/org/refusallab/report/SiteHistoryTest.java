package org.refusallab.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.platform.Section;

/**
 * The report folder's history and what a new run carries over: a failed analysis keeps its last good result marked
 * stale only with the same checkpoint, configuration and analysis version; --only keeps the others' sections; each
 * run is a new runs/&lt;time&gt;/ (earlier ones byte-for-byte intact) and index.html points at the latest.
 */
class SiteHistoryTest {

    @TempDir
    Path dir;
    final SiteHistory history = new SiteHistory(new SitePublisher());
    static final SiteHistory.Provenance SAME = new SiteHistory.Provenance("ckpt-a", "config-a");
    static final SiteHistory.Carry STALE = new SiteHistory.Carry(true, Map.of());

    static Section ok(String id, String version, String summary) {
        return new Section(id, id + " title", 10, "org.test." + id, version, Section.Status.OK, null, Duration.ofMillis(1500),
                Map.of("k", "v"), new AnalysisResult(summary, List.of(SampleReports.line()), List.of(), List.of()));
    }

    static Section failed(String id, String version, String error) {
        return Section.failed(id, id + " title", 10, "org.test." + id, version, error, Duration.ofMillis(10), Map.of());
    }

    static Report report(Section... sections) {
        return new Report(SampleReports.report("t").summary(), List.of(sections));
    }

    @Test
    void aFailedAnalysisShowsItsLastGoodResultMarkedStaleWithItsRun() throws Exception {
        Path site = dir.resolve("site");
        SiteHistory.Published first = history.publish(report(ok("a", "1.0.0", "good numbers"), ok("b", "1.0.0", "b numbers")), site, SAME, STALE);
        Map<String, String> firstDigest = InterruptedPublishTest.digest(first.run());
        SiteHistory.Published second = history.publish(report(failed("a", "1.0.0", "IllegalStateException: boom"), ok("b", "1.0.0", "b again")), site, SAME, STALE);

        Report.Carried c = second.shown().carried().get("a");
        assertEquals(first.run().getFileName().toString(), c.fromRun());
        assertEquals("IllegalStateException: boom", c.failedNow().errorLine());
        assertEquals(List.of("a"), second.shown().failedSections().stream().map(Section::id).toList(), "still counted as failed");
        String page = Files.readString(second.run().resolve("a.html"));
        assertTrue(page.contains("Stale: this analysis failed in this run"));
        assertTrue(page.contains("good numbers"), "the last good result is shown");
        assertTrue(page.contains(c.fromRun()));
        String index = Files.readString(second.run().resolve("index.html"));
        assertTrue(index.contains("STALE") && index.contains("IllegalStateException: boom"));
        assertEquals(firstDigest, InterruptedPublishTest.digest(first.run()), "the earlier run is byte-for-byte intact");

        // a third failure still points at the run the result was made in, not at the run that carried it
        SiteHistory.Published third = history.publish(report(failed("a", "1.0.0", "again"), ok("b", "1.0.0", "b")), site, SAME, STALE);
        assertEquals(first.run().getFileName().toString(), third.shown().carried().get("a").fromRun());
    }

    @Test
    void everyFigureKindSurvivesTheRoundTripThroughSectionsJson() throws Exception {
        Path site = dir.resolve("site");
        Section all = SampleReports.allKinds(); // line, bar, heatmap with NaN cells, histogram, scatter, a table with markup
        history.publish(report(all), site, SAME, STALE);
        Section failedNow = Section.failed(all.id(), all.title(), all.order(), all.bundle(), all.bundleVersion(), "boom", Duration.ZERO, Map.of());
        SiteHistory.Published p = history.publish(report(failedNow), site, SAME, STALE);
        Section carried = p.shown().sections().get(0);
        assertEquals(all.result().summary(), carried.result().summary());
        assertEquals(all.result().tables(), carried.result().tables());
        assertEquals(all.result().findings(), carried.result().findings());
        assertEquals(all.result().figures().size(), carried.result().figures().size());
        for (int i = 0; i < all.result().figures().size(); i++) {
            var a = all.result().figures().get(i);
            var b = carried.result().figures().get(i);
            assertEquals(a.id() + a.kind() + a.xLabels() + a.yLabels() + a.referenceLines(), b.id() + b.kind() + b.xLabels() + b.yLabels() + b.referenceLines());
            for (int k = 0; k < a.series().size(); k++) {
                assertTrue(java.util.Arrays.deepEquals(a.series().get(k).values(), b.series().get(k).values()), a.id());
            }
        }
    }

    @Test
    void nothingIsCarriedFromAnotherCheckpointConfigurationOrAnalysisVersion() throws Exception {
        Path site = dir.resolve("site");
        history.publish(report(ok("a", "1.0.0", "good numbers"), ok("b", "1.0.0", "b")), site, SAME, STALE);
        Report failedA = report(failed("a", "1.0.0", "boom"));
        assertEquals(Map.of(), history.publish(failedA, site, new SiteHistory.Provenance("ckpt-b", "config-a"), STALE).shown().carried());
        assertEquals(Map.of(), history.publish(failedA, site, new SiteHistory.Provenance("ckpt-a", "config-b"), STALE).shown().carried(),
                "the previous run (ckpt-a, config-b) had no good 'a'");
        history.publish(report(ok("a", "1.0.0", "good numbers")), site, SAME, STALE);
        assertEquals(Map.of(), history.publish(report(failed("a", "2.0.0", "boom")), site, SAME, STALE).shown().carried(), "another version");
        history.publish(report(ok("a", "1.0.0", "good numbers")), site, SAME, STALE);
        assertEquals(Map.of(), history.publish(failedA, site, SAME, SiteHistory.Carry.NONE).shown().carried(), "--no-stale");
    }

    @Test
    void onlyKeepsTheLastSectionsOfTheAnalysesNotRun() throws Exception {
        Path site = dir.resolve("site");
        SiteHistory.Published all = history.publish(report(ok("a", "1.0.0", "a numbers"), ok("b", "1.0.0", "b numbers")), site, SAME, STALE);
        SiteHistory.Published only = history.publish(report(ok("b", "1.0.0", "b rerun")), site, SAME,
                new SiteHistory.Carry(true, Map.of("a", "org.test.a@1.0.0")));
        assertEquals(List.of("a", "b"), only.shown().sections().stream().map(Section::id).toList());
        assertEquals(new Report.Carried(all.run().getFileName().toString(), null), only.shown().carried().get("a"));
        assertTrue(Files.readString(only.run().resolve("a.html")).contains("Kept: this analysis was not run this time"));
        assertTrue(Files.readString(only.run().resolve("b.html")).contains("b rerun"));
        // an analysis whose bundle changed since is not kept
        SiteHistory.Published other = history.publish(report(ok("b", "1.0.0", "b")), site, SAME,
                new SiteHistory.Carry(true, Map.of("a", "org.test.a@1.1.0")));
        assertEquals(List.of("b"), other.shown().sections().stream().map(Section::id).toList());
    }

    @Test
    void theIndexPointsAtTheLatestRunAndListsThemAll() throws Exception {
        Path site = dir.resolve("site");
        Path first = history.publish(report(ok("a", "1.0.0", "x")), site, SAME, STALE).run();
        Path second = history.publish(report(ok("a", "1.0.0", "y")), site, SAME, STALE).run();
        String index = Files.readString(site.resolve("index.html"));
        assertTrue(index.contains("<meta http-equiv=\"refresh\" content=\"0; url=runs/" + second.getFileName() + "/index.html\">"), index);
        assertTrue(index.contains("href=\"runs/" + first.getFileName() + "/index.html\""));
        assertEquals(second, SiteHistory.latestRun(site));
        assertTrue(Files.isRegularFile(site.resolve(SiteHistory.MARKER)));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(site), s.toList(), "nothing beside the report folder");
        }
        try (var s = Files.list(site.resolve("runs"))) {
            assertEquals(2, s.count(), "no staging folder left inside");
        }
    }

    @Test
    void theRunsBeyondTheNewestNArePruned() throws Exception {
        Path site = dir.resolve("site");
        SiteHistory keepThree = new SiteHistory(new SitePublisher(), 3); // the default keeps 50
        Path first = keepThree.publish(report(ok("a", "1.0.0", "x")), site, SAME, STALE).run();
        Path second = keepThree.publish(report(ok("a", "1.0.0", "y")), site, SAME, STALE).run();
        for (int i = 0; i < 2; i++) keepThree.publish(report(ok("a", "1.0.0", "x" + i)), site, SAME, STALE);
        assertFalse(Files.exists(first));
        assertTrue(Files.exists(second));
        assertEquals(3, SiteHistory.runIds(site.resolve("runs")).size());
    }

    @Test
    void aFolderItDidNotWriteIsRefusedAndAReportOfAnEarlierVersionIsMovedNotDeleted() throws Exception {
        Path mine = Files.createDirectories(dir.resolve("mine"));
        Files.writeString(mine.resolve("notes.txt"), "mine");
        assertThrows(SiteHistory.NotOwned.class, () -> history.publish(report(ok("a", "1.0.0", "x")), mine, SAME, STALE));
        assertEquals(List.of(mine.resolve("notes.txt")), Files.list(mine).toList());
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertThrows(SiteHistory.NotOwned.class, () -> SiteHistory.checkOwnership(file));
        SiteHistory.checkOwnership(dir.resolve("absent"));
        SiteHistory.checkOwnership(Files.createDirectories(dir.resolve("empty")));

        Path legacy = dir.resolve("legacy");
        new SitePublisher().publish(SampleReports.report("an earlier version's report"), legacy); // the old layout
        Map<String, String> before = InterruptedPublishTest.digest(legacy);
        history.publish(report(ok("a", "1.0.0", "x")), legacy, SAME, STALE);
        List<String> runs = SiteHistory.runIds(legacy.resolve("runs"));
        assertEquals(2, runs.size());
        assertEquals(before, InterruptedPublishTest.digest(legacy.resolve("runs").resolve(runs.get(0))), "moved whole, byte for byte");
        assertNull(null);
    }
}
