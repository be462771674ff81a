package org.refusallab.launcher;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Real analysis bundles for the tests: the ones bundles/platform-tests builds with bnd (manifest and DS component
 * XML), copied to target/testbundles by this module's build.
 */
final class TestBundles {

    private TestBundles() { }

    /** @param name the bundle's classifier in bundles/platform-tests: good, throwing, dup-v1, dup-v2, swap-v1, swap-v2 */
    static Path jar(String name) {
        Path jar = Path.of("target/testbundles/refusal-lab-platform-tests-" + name + ".jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) throw new IllegalStateException("test bundle missing: " + jar + " (build bundles/platform-tests first)");
        return jar;
    }
}
