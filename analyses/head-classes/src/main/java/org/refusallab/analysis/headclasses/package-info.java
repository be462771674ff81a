/** The head-classes analysis: BOS, direct and diagonal heads of the middle layers. */
package org.refusallab.analysis.headclasses;
