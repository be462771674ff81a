package org.refusallab.analysis.residualpatching;

import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Fixture;

/** Every check of {@link ResidualPatchingTest} again on the tiny Gemma 2 fixture against its double reference: it reads the model's own soft-capped metric and claims no additivity. */
@RefusalLab.OnModel(Fixture.TINY_GEMMA2)
class ResidualPatchingOnGemma2Test extends ResidualPatchingTest {
}
