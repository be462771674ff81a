/**
 * An independent double-precision Gemma 1 and Gemma 2 forward ({@link org.refusallab.testkit.GemmaReference}) with TransformerLens
 * hooks, the API's interventions and greedy generation, plus a small safetensors reader: the oracle other modules'
 * tests hold the SameDiff engine and the analyses against. No ND4J here.
 */
@Export
@Version("1.0.0")
package org.refusallab.testkit;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
