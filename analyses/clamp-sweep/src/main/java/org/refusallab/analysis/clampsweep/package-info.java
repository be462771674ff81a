/** The clamp-sweep analysis: the refusal metric and generations with the refusal component clamped at one layer. */
package org.refusallab.analysis.clampsweep;
