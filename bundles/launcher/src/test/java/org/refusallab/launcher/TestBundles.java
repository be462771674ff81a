package org.refusallab.launcher;

import aQute.bnd.osgi.Builder;
import aQute.bnd.osgi.Jar;
import java.io.File;
import java.nio.file.Path;
import org.refusallab.api.analysis.Analysis;

/** Builds real analysis bundles (manifest + DS component XML by bnd) from the test-bundle packages of test-classes. */
final class TestBundles {

    private TestBundles() { }

    static Path build(Path dir, String symbolicName, String version, String testPackage) throws Exception {
        Path out = dir.resolve(symbolicName + "-" + version + ".jar");
        try (Builder b = new Builder()) {
            b.setProperty("Bundle-SymbolicName", symbolicName);
            b.setProperty("Bundle-Version", version);
            b.setProperty("Private-Package", "org.refusallab.launcher.testbundles." + testPackage);
            b.setProperty("-dsannotations", "*");
            Path resources = Path.of("src/test/resources/testbundles", testPackage);
            if (java.nio.file.Files.isDirectory(resources)) b.setProperty("-includeresource", resources.toString());
            b.addClasspath(new File("target/test-classes"));
            b.addClasspath(new File(Analysis.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
            Jar jar = b.build();
            if (!b.isOk()) throw new IllegalStateException("bnd: " + b.getErrors());
            jar.write(out.toFile());
        }
        return out;
    }
}
