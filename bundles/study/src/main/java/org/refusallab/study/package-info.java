/**
 * Shared services of the refusal study that analyses build on: prompt sets, subject positions, the refusal score
 * and logit metric, the refusal direction (fit, select, save, load), directional ablation / activation addition,
 * and batched activation patching. Everything goes through the {@code org.refusallab.api.model} API only.
 */
@Export
@Version("1.0.0")
package org.refusallab.study;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
