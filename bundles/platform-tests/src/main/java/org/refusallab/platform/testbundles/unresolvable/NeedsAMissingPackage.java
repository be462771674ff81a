package org.refusallab.platform.testbundles.unresolvable;

/** Its bundle imports com.example.nowhere (added to its manifest), which no bundle exports: it cannot resolve. */
public class NeedsAMissingPackage {
}
