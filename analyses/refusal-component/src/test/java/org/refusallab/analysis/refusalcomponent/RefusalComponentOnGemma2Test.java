package org.refusallab.analysis.refusalcomponent;

import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Fixture;

/** Every check of {@link RefusalComponentTest} again on the tiny Gemma 2 fixture against its double reference: the refusal component is a residual-stream projection, the same on both architectures. */
@RefusalLab.OnModel(Fixture.TINY_GEMMA2)
class RefusalComponentOnGemma2Test extends RefusalComponentTest {
}
