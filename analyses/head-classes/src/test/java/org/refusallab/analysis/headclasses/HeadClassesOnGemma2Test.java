package org.refusallab.analysis.headclasses;

import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Fixture;

/** Every check of {@link HeadClassesTest} again on the tiny Gemma 2 fixture against its double reference: attention patterns, with Gemma 2's sliding window and attention soft-cap. */
@RefusalLab.OnModel(Fixture.TINY_GEMMA2)
class HeadClassesOnGemma2Test extends HeadClassesTest {
}
