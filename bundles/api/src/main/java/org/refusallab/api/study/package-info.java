/**
 * The refusal study's services and values: prompt pairs and their subject positions, the refusal metric and score,
 * the refusal direction with its provenance, directional ablation / activation addition, generations with refusal
 * flags, and statistics. {@link org.refusallab.api.study.StudyService} is provided by the study bundle.
 */
@Export
@Version("1.3.0")
package org.refusallab.api.study;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
