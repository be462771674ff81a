/** The head-patching analysis: activation patching of whole classes of middle-layer heads, noising and denoising. */
package org.refusallab.analysis.headpatching;
