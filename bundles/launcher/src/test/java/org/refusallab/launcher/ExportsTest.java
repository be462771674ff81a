package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;

/** What the framework lets bundles import: the API packages resolve, the engine's do not, and the resolver says why. */
class ExportsTest {

    @TempDir
    static Path root;
    static Lab lab;

    @BeforeAll
    static void start() throws Exception {
        lab = PlatformTestSupport.startLab(root, "{\"name\": \"exports\"}", Map.of());
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    private static Bundle importing(String name, String imports) throws Exception {
        Path jar = ClassPathPackagesTest.jar(root.resolve(name + ".jar"),
                Map.of("Bundle-ManifestVersion", "2", "Bundle-SymbolicName", name, "Bundle-Version", "1.0.0", "Import-Package", imports), List.of());
        return lab.host().install(jar);
    }

    @Test
    void aBundleImportingTheEngineDoesNotResolveAndTheResolverSaysWhy() throws Exception {
        Bundle b = importing("test.engine.importer", "org.refusallab.engine");
        BundleException e = assertThrows(BundleException.class, b::start);
        System.out.println("resolver: " + e.getMessage());
        assertEquals(BundleException.RESOLVE_ERROR, e.getType());
        assertTrue(e.getMessage().contains("missing requirement") && e.getMessage().contains("osgi.wiring.package=org.refusallab.engine"), e.getMessage());
        assertEquals(Bundle.INSTALLED, b.getState());

        Bundle nd4j = importing("test.nd4j.importer", "org.nd4j.linalg.factory");
        assertThrows(BundleException.class, nd4j::start);
    }

    @Test
    void aBundleImportingTheApiResolves() throws Exception {
        Bundle b = importing("test.api.importer", "org.refusallab.api.model;version=\"[2.0,3)\",org.refusallab.api.sweep;version=\"[1.0,2)\",com.fasterxml.jackson.databind");
        b.start();
        assertEquals(Bundle.ACTIVE, b.getState());
    }
}
