package org.refusallab.launcher.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.refusallab.api.model.Tensor;
import org.refusallab.checkpoint.SafetensorsFile;
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
        SafetensorsFile file = SafetensorsFile.open(out);
        assertEquals(4 + 1 + 1 + 1, file.tensors().size(), file.tensors().keySet().toString());
        ReferenceRun want = GemmaReference.load(fixture()).run(List.of(new int[] {2, 137, 41, 124, 111}), List.of());
        for (String hook : List.of("blocks.0.hook_resid_pre", "blocks.3.hook_resid_pre", "blocks.1.attn.hook_pattern", "logits")) {
            INDArray got = file.read(hook);
            DTensor ref = want.hook(hook);
            double err = ref.maxAbsDiff(new Tensor(got.shape(), got.dup().data().asFloat()));
            assertTrue(err <= 1e-4 * ref.maxAbs(), hook + " error " + err);
        }
        assertEquals(137f, file.read("input_ids").getFloat(0, 1));
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
