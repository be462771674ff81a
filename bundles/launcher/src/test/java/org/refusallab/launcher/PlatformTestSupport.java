package org.refusallab.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.refusallab.api.analysis.Progress;
import org.refusallab.platform.tests.FakeModel;

/** A lab on a real embedded Felix (SCR, Configuration Admin, fileinstall) with the fake model, in a temp folder. */
final class PlatformTestSupport {

    private PlatformTestSupport() { }

    static Lab startLab(Path root, String studyJson, Map<String, String> frameworkOverrides) throws Exception {
        Path config = Files.createDirectories(root.resolve("config"));
        Files.writeString(config.resolve("study.json"), studyJson);
        Files.writeString(config.resolve("framework.properties"), "refusallab.bundles =\nrefusallab.analysis.timeoutSeconds = 30\n");
        Path bundles = Path.of(System.getProperty("refusallab.frameworkBundles", "target/framework-bundles"));
        return Lab.start(new Lab.Settings(root, root.resolve("work"), config, null, null, bundles, true, false,
                frameworkOverrides, new FakeModel(), id -> Progress.NONE));
    }
}
