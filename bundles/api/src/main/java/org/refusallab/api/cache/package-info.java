/** Cache helpers that make analysis code read like the math: decomposed residuals, stacked head results, final-norm scaling. */
@Export
@Version("1.0.0")
package org.refusallab.api.cache;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
