/**
 * The hooked Gemma model as analyses see it: TransformerLens hook names ({@link org.refusallab.api.model.Hooks}),
 * per-call interventions as values, activation caches, the weights analyses read (W_U, W_E, W_O, final norm).
 * 2.0.0: Intervention built with named steps (value equality, text form), Hooks, weight accessors in place of the
 * unembedding helpers. 2.2.0: {@link org.refusallab.api.model.Architecture} (soft-caps, post-norms),
 * {@code HookedModel.architecture()} and {@code postAttentionNormWeight(layer)}, Gemma 2's post-norm hooks in {@link org.refusallab.api.model.Hooks}.
 */
@Export
@Version("2.2.0")
package org.refusallab.api.model;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
