/** Cache helpers that make analysis code read like the math: decomposed residuals, stacked head results, final-norm scaling.
 * 1.1.0: {@code ResidualStack.applyNorm}, {@code ActivationCache.headContributions} (Gemma 2's heads through the post-attention norm). */
@Export
@Version("1.1.0")
package org.refusallab.api.cache;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
