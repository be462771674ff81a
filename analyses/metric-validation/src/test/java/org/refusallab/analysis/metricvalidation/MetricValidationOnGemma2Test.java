package org.refusallab.analysis.metricvalidation;

import org.refusallab.testsupport.RefusalLab;
import org.refusallab.testsupport.RefusalLab.Fixture;

/** Every check of {@link MetricValidationTest} again on the tiny Gemma 2 fixture against its double reference: it validates the model's own (soft-capped) logit metric against its generations. */
@RefusalLab.OnModel(Fixture.TINY_GEMMA2)
class MetricValidationOnGemma2Test extends MetricValidationTest {
}
