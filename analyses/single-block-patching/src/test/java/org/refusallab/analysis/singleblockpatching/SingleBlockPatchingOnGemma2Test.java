package org.refusallab.analysis.singleblockpatching;

import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Fixture;

/** Every check of {@link SingleBlockPatchingTest} again on the tiny Gemma 2 fixture against its double reference: patching hook_attn_out / hook_mlp_out patches each block's whole write (post-norm included); the fractions are of the model's own soft-capped metric. */
@RefusalLab.OnModel(Fixture.TINY_GEMMA2)
class SingleBlockPatchingOnGemma2Test extends SingleBlockPatchingTest {
}
