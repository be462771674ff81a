package org.refusallab.platform.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.refusallab.api.model.Architecture;
import org.refusallab.platform.Section;

/**
 * Declared assumptions against the model: on a Gemma 2-like model (final soft-cap 30, post-norms) an analysis that
 * assumes linear logits is NOT APPLICABLE with the reason and is never called; one that linearises them runs and its
 * section states the linearisation; the same analyses on Gemma 1 both run, their assumptions listed as holding.
 */
class AssumptionsTest {

    static final Architecture GEMMA2 = new Architecture("gemma2", 30, 50, 4096, true);
    static PlatformFixture platform;
    static Bundle bundle;

    @BeforeAll
    static void install() throws Exception {
        platform = new PlatformFixture("{}");
        bundle = platform.installAndStart("assumptions");
    }

    @AfterAll
    static void stop() throws Exception {
        platform.close();
    }

    static int runs() throws Exception {
        return bundle.loadClass("org.refusallab.platform.testbundles.assumptions.NeedsLinearLogits").getField("runs").getInt(null);
    }

    @Test
    void onASoftCappedModelTheAssumingAnalysisIsNotApplicableAndTheLinearisingOneRuns() throws Exception {
        platform.unregisterModel();
        platform.registerModel(new FakeModel(GEMMA2));
        try {
            int before = runs();
            Map<String, Section> s = PlatformFixture.byId(platform.runner().runAll(Set.of()));
            Section na = s.get("needs-linear-logits");
            assertEquals(Section.Status.NOT_APPLICABLE, na.status(), na.error());
            assertNull(na.result(), "no numbers");
            assertEquals("NOT APPLICABLE on this model: it assumes LINEAR_LOGITS (the logits (and the logit metric) are linear in the final norm's output,"
                    + " so attributions add up to them): gemma2 soft-caps its final logits (tanh(z / 30) * 30): they are bounded and not linear in"
                    + " the residual stream", na.error());
            assertEquals(before, runs(), "its run() was never called");
            assertTrue(na.assumptions().get(0).startsWith("LINEAR_LOGITS (") && na.assumptions().get(0).contains("NOT APPLICABLE"), na.assumptions().toString());
            assertTrue(!na.failed(), "not applicable is not a failure");

            Section lin = s.get("linearises-logits");
            assertEquals(Section.Status.OK, lin.status(), lin.error());
            assertEquals("pre-soft-cap logits", lin.result().summary());
            assertEquals(2, lin.assumptions().size());
            assertTrue(lin.assumptions().get(0).startsWith("RESIDUAL_IS_SUM_OF_BLOCK_OUTPUTS") && lin.assumptions().get(0).endsWith("holds on this model"));
            assertTrue(lin.assumptions().get(1).contains("broken on this model (gemma2 soft-caps its final logits")
                    && lin.assumptions().get(1).contains("linearised: attributions are of the logits before the final soft-cap"), lin.assumptions().get(1));
        } finally {
            platform.unregisterModel();
            platform.registerModel();
        }
    }

    @Test
    void onGemma1BothRunAndTheirAssumptionsHold() throws Exception {
        int before = runs();
        List<Section> ran = platform.runner().runAll(Set.of());
        for (Section s : ran) {
            assertEquals(Section.Status.OK, s.status(), s.id() + ": " + s.error());
            assertTrue(s.assumptions().stream().allMatch(a -> a.endsWith("holds on this model")), s.assumptions().toString());
        }
        assertEquals(before + 1, runs());
    }
}
