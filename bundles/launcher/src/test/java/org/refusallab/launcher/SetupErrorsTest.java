package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.report.Report;
import org.refusallab.report.SiteHistory;
import org.refusallab.report.SitePublisher;

/**
 * Bad input stops "run" before anything runs or is published: a missing tokenizer, a data file line that is not JSON,
 * a broken study.json (exit 1), an --out that is a file or a folder of the user's (exit 2). Each leaves the previous
 * report and the user's files byte-for-byte as they were; leftovers of a run killed while publishing are removed.
 */
class SetupErrorsTest {

    @TempDir
    Path home;
    Path site;
    Map<String, String> siteBefore;
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    @BeforeEach
    void aHomeWithAGoodReport() throws Exception {
        System.setProperty("refusallab.home", home.toString());
        Files.createDirectories(home.resolve("runtime-config/datasets"));
        Files.createDirectories(home.resolve("m"));
        Files.writeString(home.resolve("m/config.json"), "{}");
        site = home.resolve("site");
        Report.Summary summary = new Report.Summary("a good report", Instant.now(), Duration.ofSeconds(1), Map.of(), Map.of(), List.of(), Map.of(), List.of());
        new SiteHistory(new SitePublisher()).publish(new Report(summary, List.of()), site, new SiteHistory.Provenance("c", "s"), SiteHistory.Carry.NONE);
        siteBefore = Digests.of(site);
    }

    @AfterEach
    void clearHome() {
        System.clearProperty("refusallab.home");
    }

    int run(String... args) {
        return Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    List<String> errLines() {
        return err.toString().lines().toList();
    }

    @Test
    void aMissingTokenizerStopsBeforeAnythingRuns() throws Exception {
        assertEquals(1, run("run", "--model", "m"));
        assertEquals(List.of("refusal-lab: model directory " + home.resolve("m") + " has no readable tokenizer.json"), errLines());
        assertEquals(siteBefore, Digests.of(site));
    }

    @Test
    void aDataFileLineThatIsNotJsonIsNamedAndNothingRuns() throws Exception {
        Files.writeString(home.resolve("runtime-config/study.json"), "{\"parameters\": {\"study\": {\"heldOutPairs\": \"datasets/toy-pairs.jsonl\"}}}");
        Files.writeString(home.resolve("runtime-config/datasets/toy-pairs.jsonl"), "{\"harmful\": \"a\"}\nnot json\n");
        assertEquals(1, run("run", "--model", "m"));
        assertEquals(1, errLines().size(), err.toString());
        assertTrue(errLines().get(0).startsWith("refusal-lab: " + home.resolve("runtime-config/datasets/toy-pairs.jsonl") + " line 2: not valid JSON ("), err.toString());
        assertEquals(siteBefore, Digests.of(site));
    }

    @Test
    void aMissingDataFileIsNamedWithTheParameterThatNamesIt() throws Exception {
        Files.writeString(home.resolve("runtime-config/study.json"), "{\"parameters\": {\"study\": {\"pairs\": \"datasets/gone.jsonl\"}}}");
        assertEquals(1, run("run", "--model", "m"));
        assertEquals(List.of("refusal-lab: " + home.resolve("runtime-config/datasets/gone.jsonl") + " (parameter study.pairs) does not exist"), errLines());
        assertEquals(siteBefore, Digests.of(site));
    }

    @Test
    void aBrokenStudyFileLeavesTheReport() throws Exception {
        Files.writeString(home.resolve("runtime-config/study.json"), "{\n  \"parameters\": {,\n}");
        assertEquals(1, run("run", "--model", "m"));
        assertTrue(errLines().get(0).startsWith("refusal-lab: " + home.resolve("runtime-config/study.json") + " is not valid JSON"), err.toString());
        assertEquals(siteBefore, Digests.of(site));
    }

    @Test
    void outNamingAFileIsRefusedWithExitTwo() throws Exception {
        Path file = Files.writeString(home.resolve("thesis.txt"), "my thesis, not a report\n");
        Map<String, String> before = Digests.of(file);
        assertEquals(2, run("run", "--out", "thesis.txt", "--model", "m"));
        assertEquals(List.of("refusal-lab: --out " + file + " is a file, not a folder: refusing to replace it (name a new or empty folder)"), errLines());
        assertEquals(before, Digests.of(file));
    }

    @Test
    void outNamingAFolderOfTheUsersIsRefusedWithExitTwo() throws Exception {
        Path mine = Files.createDirectories(home.resolve("mine"));
        Files.writeString(mine.resolve("keep.txt"), "the user's file\n");
        Map<String, String> before = Digests.of(mine);
        assertEquals(2, run("run", "--out", "mine", "--model", "m"));
        assertEquals(List.of("refusal-lab: --out " + mine + " is a folder that refusal-lab did not write (no .refusal-lab-report marker)"
                + " and is not empty: refusing to write there (name a new or empty folder)"), errLines());
        assertEquals(before, Digests.of(mine));
    }

    @Test
    void leftoversOfARunKilledWhilePublishingAreRemovedAtTheNextStart() throws Exception {
        // what kill -9 while publishing leaves: this version's staging inside the report, an earlier version's beside it
        Files.createDirectories(site.resolve("runs/.building-1b4e28ba-2fa1-11d2-883f-0016d3cca427/assets"));
        Path legacy = Files.createDirectories(home.resolve(".site.tmp-1b4e28ba-2fa1-11d2-883f-0016d3cca427/data"));
        Path usersHidden = Files.createDirectories(home.resolve(".site.tmp-mine"));
        assertEquals(1, run("run", "--model", "m")); // stops at the missing tokenizer, after the clean-up
        assertFalse(Files.exists(site.resolve("runs/.building-1b4e28ba-2fa1-11d2-883f-0016d3cca427")));
        assertFalse(Files.exists(legacy));
        assertTrue(Files.exists(usersHidden), "only names this tool makes (a UUID) are removed");
        assertEquals(siteBefore, Digests.of(site));
    }
}
