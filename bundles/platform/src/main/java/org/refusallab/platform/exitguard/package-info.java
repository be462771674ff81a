/**
 * The exit guard: a weaving hook that rewrites calls to {@code System.exit}, {@code Runtime.exit} and
 * {@code Runtime.halt} in analysis bundles into calls of {@link org.refusallab.platform.exitguard.ExitGuard}, which
 * throws instead of ending the process. Exported because woven classes import it dynamically.
 */
@Export
@Version("1.0.0")
package org.refusallab.platform.exitguard;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
