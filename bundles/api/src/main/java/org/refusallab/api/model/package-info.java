/** The hooked Gemma model as analyses see it: TransformerLens hook names, per-call interventions, activation caches. */
@Export
@Version("1.0.0")
package org.refusallab.api.model;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
