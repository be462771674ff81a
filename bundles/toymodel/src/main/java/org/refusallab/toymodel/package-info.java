/** The embedded toy Gemma's data: synthetic instruction corpus, evaluation splits, datasets and tokenizer files. */
@Export
@Version("1.0.0")
package org.refusallab.toymodel;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
