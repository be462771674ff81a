package org.refusallab.platform.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.refusallab.platform.tests.PlatformFixture.values;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.refusallab.platform.Section;

/**
 * A throwing analysis, one past its configured time limit and one returning a malformed result each become a failed
 * section with its error, while the others in the same run complete.
 */
class FaultIsolationTest {

    static PlatformFixture platform;
    static List<Section> ran;
    static Map<String, Section> sections;
    static Bundle slow;

    @BeforeAll
    static void runAll() throws Exception {
        platform = new PlatformFixture("{\"analyses\": {\"slow\": {\"parameters\": {\"timeoutSeconds\": 1}}}}");
        for (String name : List.of("malformed", "slow", "good", "throwing")) {
            Bundle b = platform.installAndStart(name);
            if (name.equals("slow")) slow = b;
        }
        ran = platform.runner().runAll(Set.of());
        sections = PlatformFixture.byId(ran);
    }

    @AfterAll
    static void stop() throws Exception {
        platform.close();
    }

    @Test
    void everyAnalysisRanInReportOrderAndTheGoodOneCompleted() {
        assertEquals(List.of("good", "throwing", "slow", "malformed"), ran.stream().map(Section::id).toList(), "order() then id");
        assertEquals(List.of("good", "throwing", "slow", "malformed"), platform.runner().sections().stream().map(Section::id).toList());
        Section good = sections.get("good");
        assertEquals(Section.Status.OK, good.status(), good.error());
        assertEquals(List.of(0.0, 6.0, 12.0, 18.0), values(good));
    }

    @Test
    void aThrowingAnalysisIsAFailedSectionWithItsError() {
        Section s = sections.get("throwing");
        assertEquals(Section.Status.FAILED, s.status());
        assertEquals("IllegalStateException: boom from the analysis", s.errorLine());
        assertTrue(s.error().contains("ThrowingAnalysis.run"), "the stack trace is kept for the page");
    }

    @Test
    void anAnalysisPastItsTimeoutIsCancelledAndFailed() throws Exception {
        Section s = sections.get("slow");
        assertEquals(Section.Status.FAILED, s.status());
        assertEquals("timed out after 1 s (limit: parameter timeoutSeconds)", s.errorLine());
        long ms = s.took().toMillis();
        assertTrue(ms >= 1000 && ms < 3000, "took " + ms + " ms");
        // the analysis saw its cancellation flag and stopped (its class lives in its own bundle's class loader)
        Class<?> slowClass = slow.loadClass("org.refusallab.platform.testbundles.slow.SlowAnalysis");
        PlatformFixture.await(() -> {
            try {
                return slowClass.getField("sawCancellation").getBoolean(null);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }, "the timed-out analysis sees cancelled()");
    }

    @Test
    void aMalformedResultIsAFailedSectionNamingEachProblem() {
        Section s = sections.get("malformed");
        assertEquals(Section.Status.FAILED, s.status());
        assertEquals("malformed result: figure short, series s: 2 values for 3 x labels; figure nan, series s: value 0 is NaN", s.errorLine());
    }

    @Test
    void withoutAModelServiceEveryAnalysisIsAFailedSection() {
        platform.unregisterModel();
        try {
            Section s = platform.runner().runAll(Set.of("good")).get(0);
            assertEquals(Section.Status.FAILED, s.status());
            assertEquals("no model is loaded (no HookedModel service)", s.errorLine());
        } finally {
            platform.registerModel();
        }
    }
}
