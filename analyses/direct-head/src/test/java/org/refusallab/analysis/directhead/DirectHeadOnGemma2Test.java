package org.refusallab.analysis.directhead;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.api.analysis.Assumption;
import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Fixture;
import org.refusallab.testsupport.RefusalLab.Lab;

/**
 * direct-head reads each head's attn.hook_result as what the head writes into the residual stream. On Gemma 2 the
 * heads sum to the post-attention norm's input, so its numbers would be silently wrong: it declares the assumption,
 * and on the tiny Gemma 2 fixture it is NOT APPLICABLE and does not run (no forward pass), while on Gemma 1 it holds.
 */
@ExtendWith(RefusalLab.class)
class DirectHeadOnGemma2Test {

    @Test
    @RefusalLab.OnModel(Fixture.TINY_GEMMA2)
    void onGemma2ItIsNotApplicableAndComputesNothing(Lab lab) {
        int forwardsBefore = lab.model().forwardCalls.get();
        var e = assertThrows(RefusalLab.NotApplicable.class, () -> lab.run(new DirectHead(lab.studies()), Lab.studyParameters(1, -1, 8)));
        assertTrue(e.getMessage().startsWith("analysis direct-head: NOT APPLICABLE on this model: it assumes HEAD_RESULTS_SUM_TO_ATTN_OUT"), e.getMessage());
        assertTrue(e.getMessage().contains("gemma2 normalises the attention output after the heads"), e.getMessage());
        assertEquals(forwardsBefore, lab.model().forwardCalls.get(), "not one forward: the analysis did not run");
        var checks = lab.assumptions(new DirectHead(lab.studies()));
        assertEquals(1, checks.size());
        assertTrue(checks.get(0).blocks());
        assertTrue(checks.get(0).describe().contains("NOT APPLICABLE"), checks.get(0).describe());
    }

    @Test
    void onGemma1TheAssumptionHolds(Lab lab) {
        List<Assumption.Check> checks = lab.assumptions(new DirectHead(lab.studies()));
        assertTrue(checks.get(0).holds(), checks.get(0).describe());
        assertNull(Assumption.notApplicableReason(checks));
    }
}
