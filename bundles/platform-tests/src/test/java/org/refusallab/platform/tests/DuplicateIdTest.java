package org.refusallab.platform.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.osgi.framework.Bundle;
import org.refusallab.platform.AnalysisRunner;
import org.refusallab.platform.Section;

/**
 * Several bundles claiming the analysis id "dup": the winner has the highest service.ranking, then the highest bundle
 * version, then the highest bundle id (the most recently installed), and the run's problems name the others. The
 * steps build on each other: each installs one more claimant.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DuplicateIdTest {

    static final String RULE = " (rule: highest service.ranking, then highest bundle version, then most recently installed)";
    static PlatformFixture platform;
    static Bundle v1;
    static Bundle v2;
    static Bundle twin;
    static Bundle ranked;

    @BeforeAll
    static void start() throws Exception {
        platform = new PlatformFixture("{}");
    }

    @AfterAll
    static void stop() throws Exception {
        platform.close();
    }

    static String describe(Bundle b) {
        return b.getSymbolicName() + " " + b.getVersion() + " (bundle " + b.getBundleId() + ")";
    }

    static Section runDup() {
        List<Section> ran = platform.runner().runAll(Set.of());
        assertEquals(List.of("dup"), ran.stream().map(Section::id).toList(), "one section per id");
        return ran.get(0);
    }

    @Test
    @Order(1)
    void theHigherBundleVersionWinsOverTheLaterInstall() throws Exception {
        v2 = platform.installAndStart("dup-v2"); // test.dup 2.0.0 first ...
        v1 = platform.installAndStart("dup-v1"); // ... then test.dup 1.0.0, so install order alone would pick 1.0.0
        Section s = runDup();
        assertEquals("dup v2", s.result().summary());
        assertEquals("test.dup", s.bundle());
        assertEquals("2.0.0", s.bundleVersion());
        assertEquals(List.of("analysis id 'dup' is provided by 2 bundles: using " + describe(v2) + "; ignoring " + describe(v1) + RULE),
                platform.runner().problems());
    }

    @Test
    @Order(2)
    void atTheSameVersionTheMostRecentlyInstalledWins() throws Exception {
        twin = platform.installAndStart("dup-twin"); // test.dup.twin 2.0.0: v2's classes under another name
        Section s = runDup();
        assertEquals("test.dup.twin", s.bundle());
        assertEquals("dup v2", s.result().summary());
        assertEquals(List.of("analysis id 'dup' is provided by 3 bundles: using " + describe(twin) + "; ignoring " + describe(v2) + ", "
                + describe(v1) + RULE), platform.runner().problems());
    }

    @Test
    @Order(3)
    void aHigherServiceRankingBeatsAHigherVersion() throws Exception {
        ranked = platform.installAndStart("dup-ranked"); // test.dup.ranked 0.5.0, service.ranking 10
        AnalysisRunner.Candidate winner = platform.runner().resolve().winner("dup");
        assertEquals(10, winner.ranking());
        Section s = runDup();
        assertEquals("dup ranked", s.result().summary());
        assertEquals("0.5.0", s.bundleVersion());
        assertEquals(List.of("analysis id 'dup' is provided by 4 bundles: using " + describe(ranked) + "; ignoring " + describe(twin) + ", "
                + describe(v2) + ", " + describe(v1) + RULE), platform.runner().problems());
    }

    @Test
    @Order(4)
    void whenTheWinnerIsUninstalledTheNextInLineRuns() throws Exception {
        ranked.uninstall();
        Section s = runDup();
        assertEquals("test.dup.twin", s.bundle());
        assertEquals(List.of("analysis id 'dup' is provided by 3 bundles: using " + describe(twin) + "; ignoring " + describe(v2) + ", "
                + describe(v1) + RULE), platform.runner().problems());
    }
}
