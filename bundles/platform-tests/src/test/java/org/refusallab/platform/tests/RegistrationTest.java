package org.refusallab.platform.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.refusallab.platform.tests.PlatformFixture.values;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.refusallab.platform.AnalysisRunner;
import org.refusallab.platform.Section;

/** An analysis bundle installed into the running framework registers its DS component, and the runner finds and runs it. */
class RegistrationTest {

    static final String STUDY = """
            {"name": "registration",
             "parameters": {"greeting": "from study.json", "nested": {"key": 3}},
             "analyses": {"throwing": {"enabled": false}}}
            """;
    static PlatformFixture platform;

    @BeforeAll
    static void start() throws Exception {
        platform = new PlatformFixture(STUDY);
    }

    @AfterEach
    void uninstall() throws Exception {
        platform.uninstallAll();
    }

    @AfterAll
    static void stop() throws Exception {
        platform.close();
    }

    @Test
    void aStartedBundleRegistersItsComponentAndTheRunnerRunsIt() throws Exception {
        Bundle good = platform.install("good");
        assertNull(platform.runner().resolve().winner("good"), "installed but not started: no service yet");
        good.start();
        ServiceReference<?> ref = platform.awaitAnalysisOf(good);
        assertEquals("org.refusallab.platform.testbundles.good.GoodAnalysis", ref.getProperty("component.name"), "registered by SCR");

        AnalysisRunner.Candidate c = platform.runner().resolve().winner("good");
        assertEquals(good.getBundleId(), c.bundleId());
        Section s = platform.runner().runAll(Set.of()).get(0);
        assertEquals(Section.Status.OK, s.status(), s.error());
        assertEquals("test.good", s.bundle());
        assertEquals("1.0.0", s.bundleVersion());
        // study.json's parameters beat the analysis's default ("default greeting"); nested objects become dotted keys
        assertEquals("greeting=from study.json layers=3", s.result().summary());
        assertEquals("3", s.parameters().get("nested.key"));
        // the parameter table lists the declared keys (Params: greeting, nested_key), not every study-wide parameter
        assertEquals(List.of("greeting", "nested.key"), List.copyOf(s.parameters().keySet()));
        // FakeModel: the logit of token v after tokens 1,2,3 is v * 6; the analysis read it through the model service
        assertEquals(List.of(0.0, 6.0, 12.0, 18.0), values(s));
        assertEquals(0.0, platform.runner().shared().get("good.first-logit", Double.class, () -> { throw new AssertionError("not shared"); }));
        assertTrue(s.customTemplate().contains("class=\"custom-good\""), "report-templates/good.html read from the bundle");

        good.stop();
        PlatformFixture.await(() -> platform.runner().resolve().winner("good") == null, "a stopped bundle's analysis is gone");
    }

    @Test
    void configurationAdminParametersBeatTheStudyFile() throws Exception {
        platform.installAndStart("good");
        platform.configure("good", Map.of("greeting", "from configuration admin", "list", new String[] {"a", "b"}));
        Section s = platform.runner().runAll(Set.of("good")).get(0);
        assertEquals("greeting=from configuration admin layers=3", s.result().summary());
        assertEquals("a|b", s.parameters().get("list"), "multi-valued properties are joined with |, like study.json lists");
        assertEquals("3", s.parameters().get("nested.key"), "the study's other parameters stay");
    }

    @Test
    void onlyRunsTheNamedAnalysesAndRejectsUnknownIds() throws Exception {
        platform.installAndStart("good");
        platform.installAndStart("malformed");
        assertEquals(List.of("good"), platform.runner().runAll(Set.of("good")).stream().map(Section::id).toList());
        var e = assertThrows(IllegalArgumentException.class, () -> platform.runner().runAll(Set.of("good", "nope")));
        assertEquals("no analysis with id nope; present: good, malformed", e.getMessage());
    }

    @Test
    void aDisabledAnalysisRunsOnlyWhenNamed() throws Exception {
        platform.installAndStart("good");
        platform.installAndStart("throwing");
        assertEquals(List.of("good"), platform.runner().runAll(Set.of()).stream().map(Section::id).toList(), "throwing is disabled in study.json");
        assertEquals(List.of("throwing"), platform.runner().runAll(Set.of("throwing")).stream().map(Section::id).toList());
    }
}
