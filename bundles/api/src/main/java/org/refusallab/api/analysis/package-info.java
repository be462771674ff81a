/** The contract an analysis bundle implements. */
@Export
@Version("1.0.0")
package org.refusallab.api.analysis;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
