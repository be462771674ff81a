/**
 * What an analysis returns: figures, tables and findings, rendered into the static report. 2.0.0: figures and tables
 * built with named steps and carrying their {@link org.refusallab.api.result.Provenance}. 2.1.0: findings
 * carry their {@link org.refusallab.api.result.Rule}, {@link org.refusallab.api.result.Measure}s and bootstrap
 * {@link org.refusallab.api.result.Interval}s.
 */
@Export
@Version("2.1.0")
package org.refusallab.api.result;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
