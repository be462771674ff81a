/** The diverse-head-patching analysis: the direct heads patched on unpaired harmful and harmless instruction sets. */
package org.refusallab.analysis.diverseheadpatching;
