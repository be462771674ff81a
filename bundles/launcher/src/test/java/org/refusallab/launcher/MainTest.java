package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: errors are one line on stderr and a non-zero exit, with no stack trace unless --verbose. */
class MainTest {

    @TempDir
    Path home;
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    @BeforeEach
    void setHome() throws Exception {
        System.setProperty("refusallab.home", home.toString());
        Files.createDirectories(home.resolve("runtime-config"));
    }

    @AfterEach
    void clearHome() {
        System.clearProperty("refusallab.home");
    }

    int run(String... args) {
        return Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    List<String> errLines() {
        return err.toString().lines().toList();
    }

    @Test
    void aMissingModelIsOneLineAndExitOne() {
        assertEquals(1, run("run", "--model", "no/such/model"));
        assertEquals(List.of("refusal-lab: model directory not found: " + home.resolve("no/such/model") + " (pass --model DIR)"), errLines());
    }

    @Test
    void aBadGeluIsNamed() throws Exception {
        Files.createDirectories(home.resolve("m"));
        Files.writeString(home.resolve("m/config.json"), "{}");
        assertEquals(1, run("run", "--model", "m", "--gelu", "fast"));
        assertEquals(List.of("refusal-lab: --gelu must be exact or tanh, got 'fast'"), errLines());
    }

    @Test
    void aBrokenStudyFileNamesTheFileAndLine() throws Exception {
        Files.writeString(home.resolve("runtime-config/study.json"), "{\n  \"parameters\": {,\n}");
        assertEquals(1, run("run"));
        assertEquals(1, errLines().size(), err.toString());
        assertTrue(errLines().get(0).startsWith("refusal-lab: " + home.resolve("runtime-config/study.json") + " is not valid JSON"), err.toString());
        assertTrue(errLines().get(0).endsWith("(line 2)"), err.toString());
    }

    @Test
    void verboseAddsTheStackTrace() {
        assertEquals(1, run("run", "--verbose", "--model", "no/such/model"));
        assertTrue(errLines().size() > 3);
        assertTrue(err.toString().contains("\tat org.refusallab.launcher.ModelLoader.load"));
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, run("run", "--bogus"));
        assertEquals(List.of("refusal-lab: Unknown option: '--bogus' (see 'refusal-lab run --help')"), errLines());
        err.getBuffer().setLength(0);
        assertEquals(2, run());
        assertEquals(1, errLines().size(), err.toString());
        assertTrue(errLines().get(0).startsWith("refusal-lab: say what to do: run, watch"), err.toString()); // then any later subcommands
    }

    @Test
    void helpListsTheSubcommands() {
        assertEquals(0, run("--help"));
        assertTrue(out.toString().contains("run "));
        assertTrue(out.toString().contains("watch "));
        assertFalse(out.toString().isBlank());
    }
}
