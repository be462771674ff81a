/**
 * What an analysis returns: figures, tables and findings, rendered into the static report. 2.0.0: figures and tables
 * built with named steps and carrying their {@link org.refusallab.api.result.Provenance}.
 */
@Export
@Version("2.0.0")
package org.refusallab.api.result;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
