/**
 * The analysis platform inside the framework: finds the Analysis services, picks one per id, runs each with its
 * parameters and a time limit, validates what it returns, and re-runs what changes while the model stays loaded.
 */
@Export
@Version("1.0.0")
package org.refusallab.platform;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
