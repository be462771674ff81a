/** The direct-head analysis: do direct heads write the refusal direction (private package: nothing is exported). */
package org.refusallab.analysis.directhead;
