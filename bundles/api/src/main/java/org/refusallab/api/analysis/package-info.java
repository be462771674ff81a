/**
 * The contract an analysis bundle implements: {@link org.refusallab.api.analysis.Analysis} with its metadata as
 * service properties ({@link org.refusallab.api.analysis.AnalysisInfo}) and typed parameters
 * ({@link org.refusallab.api.analysis.Parameters}). 2.0.0: metadata moved from methods to service properties,
 * typed parameters, typed shared results. 2.1.0: {@link org.refusallab.api.analysis.Assumption}, declared on
 * {@code AnalysisInfo.assumes / linearises} and checked against the model before an analysis runs.
 */
@Export
@Version("2.1.0")
package org.refusallab.api.analysis;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
