/** Hugging Face Gemma checkpoints: config.json and safetensors shards, read tensor by tensor and validated, and written. */
@Export
@Version("1.0.0")
package org.refusallab.checkpoint;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
