package org.refusallab.launcher.engine;

import java.util.List;
import java.util.concurrent.Callable;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.engine.GemmaModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Greedy completion of one chat prompt. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Print the model's greedy completion of a prompt (Gemma chat format).")
public final class GenerateCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--prompt", paramLabel = "T", required = true, description = "the user's instruction")
    String prompt;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "token limit (default: ${DEFAULT-VALUE})")
    int maxNewTokens = 64;

    @Override
    public Integer call() {
        if (maxNewTokens < 1) throw new IllegalArgumentException("--max-new-tokens must be at least 1, got " + maxNewTokens);
        try (GemmaModel m = model.load()) {
            int[] ids = m.tokenizer().encodeChat(prompt);
            int[] completion = m.generate(new GenerationRequest(List.of(ids), maxNewTokens, List.of())).get(0);
            System.out.println(m.tokenizer().decode(completion, true));
        }
        return 0;
    }
}
