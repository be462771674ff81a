/** What an analysis returns: figures, tables and findings, rendered into the static report. */
@Export
@Version("1.0.0")
package org.refusallab.api.result;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
