/**
 * Heavy work as rows: token ids, the row's interventions and declarative read-outs, all plain serialisable values,
 * run by a {@link org.refusallab.api.sweep.SweepService}.
 */
@Export
@Version("1.1.0")
package org.refusallab.api.sweep;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
