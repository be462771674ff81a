package org.refusallab.launcher.engine;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.Tensor;
import org.refusallab.checkpoint.CheckpointWriter;
import org.refusallab.checkpoint.StoredDtype;
import org.refusallab.engine.GemmaModel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Runs one hooked forward and writes the activations as a safetensors file named by TransformerLens hook names. */
@Command(name = "cache", mixinStandardHelpOptions = true,
        description = "Cache hook activations of one forward pass into a safetensors file (float32, batch first, plus input_ids as int64).")
public final class CacheCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    static final class Input {
        @Option(names = "--text", paramLabel = "T", description = "text to tokenize") String text;
        @Option(names = "--ids", paramLabel = "2,651,...", split = ",", description = "token ids") int[] ids;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--chat", description = "wrap --text in Gemma's chat prompt")
    boolean chat;

    @Option(names = "--hooks", paramLabel = "GLOB", split = ",", description = "hook names or globs (* within a dotted part, ** across); default: every hook")
    List<String> hooks = List.of("**");

    @Option(names = "--out", paramLabel = "FILE.safetensors", required = true, description = "output file")
    Path out;

    @Override
    public Integer call() {
        if (chat && input.text == null) throw new IllegalArgumentException("--chat applies to --text only");
        try (GemmaModel m = model.load()) {
            int[] ids = input.text != null
                    ? (chat ? m.tokenizer().encodeChat(input.text) : m.tokenizer().encode(input.text))
                    : input.ids;
            ForwardResult r = m.run(new ForwardRequest(List.of(ids), Set.copyOf(hooks), List.of()));
            Map<String, INDArray> tensors = new LinkedHashMap<>();
            r.cache().forEach((name, t) -> tensors.put(name, toArray(t)));
            // activations as float32, the token ids as int64 [1, tokens] (what transformers' tokenizers return)
            long[] idValues = new long[ids.length];
            for (int i = 0; i < ids.length; i++) idValues[i] = ids[i];
            CheckpointWriter.writeTensors(out, tensors, StoredDtype.F32, Map.of("input_ids", new long[][] {idValues}));
            System.out.printf("wrote %d tensors for %d tokens to %s%n", tensors.size(), ids.length, out);
        }
        return 0;
    }

    static INDArray toArray(Tensor t) {
        return Nd4j.create(t.data(), t.shape(), 'c');
    }

}
