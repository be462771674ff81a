package org.refusallab.launcher.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.api.model.Tensor;
import org.refusallab.launcher.Main;
import org.refusallab.testkit.DTensor;
import org.refusallab.testkit.GemmaReference;
import org.refusallab.testkit.ReferenceRun;

/** {@code refusal-lab cache} writes the hooks it is asked for, as the independent reference computes them. */
class CacheCommandTest {

    static Path fixture() throws Exception {
        return Path.of(CacheCommandTest.class.getResource("/fixtures/tiny-gemma/checkpoint/config.json").toURI()).getParent();
    }

    static int run(String... args) {
        return Main.execute(args, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
    }

    @Test
    void writesRequestedHooksAndInputIds(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("acts.safetensors");
        int code = run("cache", "--model", fixture().toString(), "--gelu", "exact", "--ids", "2,137,41,124,111",
                "--hooks", "blocks.*.hook_resid_pre,blocks.1.attn.hook_pattern,logits", "--out", out.toString());
        assertEquals(0, code);
        // read back with the testkit's own safetensors reader (independent of the writer)
        Map<String, Tensor> file = org.refusallab.testkit.SafetensorsFile.read(out);
        assertEquals(4 + 1 + 1 + 1, file.size(), file.keySet().toString());
        ReferenceRun want = GemmaReference.load(fixture()).run(List.of(new int[] {2, 137, 41, 124, 111}), List.of());
        for (String hook : List.of("blocks.0.hook_resid_pre", "blocks.3.hook_resid_pre", "blocks.1.attn.hook_pattern", "logits")) {
            Tensor got = file.get(hook);
            DTensor ref = want.hook(hook);
            double err = ref.maxAbsDiff(got);
            assertTrue(err <= 1e-4 * ref.maxAbs(), hook + " error " + err);
        }
        // token ids are integers: int64 [1, tokens]
        assertEquals("I64", org.refusallab.testkit.SafetensorsFile.dtypes(out).get("input_ids"));
        assertEquals("F32", org.refusallab.testkit.SafetensorsFile.dtypes(out).get("logits"));
        assertArrayEquals(new long[] {1, 5}, file.get("input_ids").shape());
        assertEquals(137f, file.get("input_ids").get(0, 1));
    }

    @Test
    void badInputIsOneClearErrorAndNoFile(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("acts.safetensors");
        assertEquals(1, run("cache", "--model", fixture().toString(), "--ids", "2,512", "--out", out.toString()));
        assertEquals(1, run("cache", "--model", fixture().toString(), "--ids", "2,5", "--hooks", "blocks.7.hook_resid_pre", "--out", out.toString()));
        assertEquals(1, run("cache", "--model", tmp.resolve("nope").toString(), "--ids", "2,5", "--out", out.toString()));
        assertFalse(Files.exists(out));
        assertTrue(run("cache", "--ids", "2", "--text", "x", "--out", out.toString()) == 2, "--ids and --text are exclusive");
    }
}
