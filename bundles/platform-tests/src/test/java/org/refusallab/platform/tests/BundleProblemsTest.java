package org.refusallab.platform.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.refusallab.platform.BundleProblems;
import org.refusallab.platform.Section;

/** Each kind of broken bundle is named with the framework's or SCR's reason, and the good analysis still runs. */
class BundleProblemsTest {

    PlatformFixture platform;
    final BundleProblems problems = new BundleProblems();

    @BeforeEach
    void start() throws Exception {
        platform = new PlatformFixture("{}");
        platform.installAndStart("good");
    }

    @AfterEach
    void stop() throws Exception {
        platform.close();
    }

    @Test
    void anUnresolvableBundleIsNamedWithTheResolversReason() throws Exception {
        Bundle b = platform.install("unresolvable");
        assertThrows(BundleException.class, b::start);
        String why = problems.whyNotActive(b);
        String me = "test.unresolvable [" + b.getBundleId() + "](R " + b.getBundleId() + ".0)";
        assertEquals("bundle test.unresolvable 1.0.0 (testbundle:unresolvable) does not resolve: Unable to resolve " + me
                + ": missing requirement [" + me + "] osgi.wiring.package; (osgi.wiring.package=com.example.nowhere)"
                + " Unresolved requirements: [[" + me + "] osgi.wiring.package; (osgi.wiring.package=com.example.nowhere)]", why);
        assertEquals(List.of(why), problems.inactiveBundles(platform.context()).stream().filter(p -> p.contains("test.")).toList());
        assertEquals(Section.Status.OK, platform.runner().runAll(Set.of()).get(0).status());
    }

    @Test
    void aBundleWhoseActivatorThrowsIsNamedWithTheException() throws Exception {
        Bundle b = platform.install("activator-throws");
        assertThrows(BundleException.class, b::start);
        assertEquals("bundle test.activator.throws 1.0.0 (testbundle:activator-throws) did not start: Activator start error in bundle"
                + " test.activator.throws [" + b.getBundleId() + "].: IllegalStateException: activator exploded on purpose", problems.whyNotActive(b));
        assertNull(problems.whyNotActive(platform.context().getBundle(0)));
    }

    @Test
    void anAnalysisComponentThatThrowsIsAProblemOfTheRunAndTheOthersRun() throws Exception {
        platform.installAndStart("component-throws");
        List<Section> ran = platform.runner().runAll(Set.of());
        assertEquals(List.of("good"), ran.stream().map(Section::id).toList());
        assertEquals(List.of("bundle test.component.throws 1.0.0: its analysis component failed to activate: component"
                + " org.refusallab.platform.testbundles.componentthrows.ThrowingComponent: java.lang.IllegalStateException:"
                + " component activation exploded on purpose"), platform.runner().problems());
        assertTrue(platform.runner().problems().get(0).startsWith("bundle test.component.throws"));
    }
}
