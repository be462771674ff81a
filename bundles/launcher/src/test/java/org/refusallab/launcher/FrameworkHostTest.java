package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FrameworkHostTest {

    @TempDir
    Path home;

    @Test
    void builtInGlobsMatchOnlyBundleJarsAndReportEmptyGlobs() throws Exception {
        Path bundle = ClassPathPackagesTest.jar(home.resolve("analyses/a/target/refusal-lab-analysis-a-1.jar"), Map.of("Bundle-SymbolicName", "a"), List.of("a/A.class"));
        ClassPathPackagesTest.jar(home.resolve("analyses/a/target/refusal-lab-analysis-a-1-sources.jar"), Map.of("Bundle-SymbolicName", "a"), List.of("a/A.java"));
        ClassPathPackagesTest.jar(home.resolve("analyses/b/target/refusal-lab-analysis-b-1.jar"), Map.of(), List.of("b/B.class")); // not a bundle
        List<String> problems = new ArrayList<>();
        List<Path> found = FrameworkHost.builtInBundles(home, "analyses/*/target/refusal-lab-analysis-*.jar, bundles/study/target/*.jar", problems);
        assertEquals(List.of(bundle), found);
        assertEquals(List.of("no bundle matches bundles/study/target/*.jar (refusallab.bundles in framework.properties; not built yet?)"), problems);
    }

    @Test
    void propertiesSubstituteHomeAndWorkAndRejectUnknownVariables() throws Exception {
        Path config = Files.createDirectories(home.resolve("config"));
        Files.writeString(config.resolve("framework.properties"), "felix.fileinstall.dir = ${refusallab.work}/drop\nx = ${refusallab.home}/y\n");
        var o = new FrameworkHost.Options(home, home.resolve("w"), config, home, true, false, Map.of());
        Map<String, String> p = FrameworkHost.properties(o);
        assertEquals(home.resolve("w/drop").toString(), p.get("felix.fileinstall.dir"));
        assertEquals(home + "/y", p.get("x"));
        assertEquals(home.resolve("w/felix-cache").toString(), p.get("org.osgi.framework.storage"));
        Files.writeString(config.resolve("framework.properties"), "x = ${nope}\n");
        var e = assertThrows(IllegalArgumentException.class, () -> FrameworkHost.properties(o));
        assertEquals(config.resolve("framework.properties") + ": unknown variable ${nope} in '${nope}'", e.getMessage());
    }
}
