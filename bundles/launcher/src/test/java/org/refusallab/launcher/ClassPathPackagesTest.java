package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassPathPackagesTest {

    @TempDir
    Path dir;

    @Test
    void exportPackageHeadersKeepVersionsAndDropDirectives() {
        Map<String, String> p = ClassPathPackages.parseExportPackage(
                "a.b;version=\"1.2.3\";uses:=\"x.y,z.w\",c.d;e.f;version=2.0,g.h;mandatory:=\"version\"");
        assertEquals(Map.of("a.b", "1.2.3", "c.d", "2.0", "e.f", "2.0", "g.h", ""), p);
    }

    @Test
    void followsManifestClassPathAndTellsBundlesFromPlainJars() throws Exception {
        Path bundle = jar(dir.resolve("lib/bundle.jar"), Map.of("Bundle-SymbolicName", "b", "Export-Package", "b.api;version=\"1.0.0\""),
                List.of("b/api/A.class", "b/internal/I.class"));
        Path plain = jar(dir.resolve("lib/plain.jar"), Map.of(), List.of("p/one/X.class", "p/two/Y.class", "META-INF/versions/11/p/three/Z.class"));
        Path felix = jar(dir.resolve("lib/felix.jar"), Map.of(), List.of("org/apache/felix/framework/Felix.class"));
        Path osgi = jar(dir.resolve("lib/osgi.jar"), Map.of(), List.of("org/osgi/framework/F.class", "org/osgi/service/cm/C.class"));
        Path main = jar(dir.resolve("main.jar"), Map.of("Class-Path", "lib/bundle.jar lib/plain.jar lib/felix.jar lib/osgi.jar lib/missing.jar"), List.of("m/Main.class"));
        Map<String, String> pkgs = ClassPathPackages.of(List.of(main));
        assertEquals(Map.of("m", "", "b.api", "1.0.0", "p.one", "", "p.two", "", "org.osgi.service.cm", ""), pkgs);
        assertEquals("m,b.api;version=\"1.0.0\",p.one,p.two,org.osgi.service.cm", ClassPathPackages.header(pkgs));
        assertTrue(bundle.toFile().exists() && plain.toFile().exists() && felix.toFile().exists() && osgi.toFile().exists());
    }

    @Test
    void theTestClassPathExportsTheApiWithItsVersionButNotTheEngineOrNd4j() {
        long t0 = System.nanoTime();
        Map<String, String> all = ClassPathPackages.ofJvmClassPath();
        Map<String, String> pkgs = ClassPathPackages.forBundles(all);
        System.out.printf("class-path packages: %d, exported to bundles: %d, in %d ms%n", all.size(), pkgs.size(), (System.nanoTime() - t0) / 1_000_000);
        assertTrue(all.containsKey("org.nd4j.linalg.factory") && all.containsKey("org.refusallab.engine"), "on the class path");
        assertEquals("2.2.0", pkgs.get("org.refusallab.api.model"));
        assertEquals("1.1.0", pkgs.get("org.refusallab.api.sweep"));
        assertTrue(pkgs.containsKey("com.fasterxml.jackson.databind"));
        assertFalse(pkgs.containsKey("org.nd4j.linalg.factory"));
        assertFalse(pkgs.containsKey("org.refusallab.engine"));
        // of the platform only the exit guard, which woven analysis classes call in place of System.exit
        assertTrue(pkgs.containsKey("org.refusallab.platform.exitguard"));
        assertFalse(pkgs.keySet().stream().anyMatch(p -> p.startsWith("org.refusallab.study")
                || p.startsWith("org.refusallab.platform") && !p.equals("org.refusallab.platform.exitguard")), pkgs.keySet().toString());
        assertFalse(pkgs.containsKey("org.osgi.framework"));
    }

    static Path jar(Path file, Map<String, String> headers, List<String> entries) throws Exception {
        Files.createDirectories(file.getParent());
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        headers.forEach((k, v) -> mf.getMainAttributes().putValue(k, v));
        try (OutputStream os = Files.newOutputStream(file); JarOutputStream jos = new JarOutputStream(os, mf)) {
            for (String e : entries) {
                jos.putNextEntry(new JarEntry(e));
                jos.write(new byte[] {(byte) 0xCA, (byte) 0xFE});
                jos.closeEntry();
            }
        }
        return file;
    }
}
