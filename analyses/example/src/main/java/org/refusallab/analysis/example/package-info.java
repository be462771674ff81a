/** Example analysis: the template for new analysis bundles (private package: nothing is exported). */
package org.refusallab.analysis.example;
