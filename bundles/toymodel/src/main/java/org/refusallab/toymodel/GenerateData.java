package org.refusallab.toymodel;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Writes the toy corpus's datasets and the toy model's tokenizer files. */
@Command(name = "generate-toy-data", mixinStandardHelpOptions = true,
        description = "Writes the toy datasets (JSONL) and the toy model's tokenizer files.")
public final class GenerateData implements Callable<Integer> {

    @Option(names = "--datasets", description = "datasets directory (default: ${DEFAULT-VALUE})")
    Path datasets = Path.of("runtime-config", "datasets");

    @Option(names = "--model-dir", description = "model directory for the tokenizer files (default: ${DEFAULT-VALUE})")
    Path modelDir = Path.of("models", "toy-gemma");

    @Option(names = "--seed", description = "corpus seed (default: ${DEFAULT-VALUE})")
    long seed = ToyCorpus.DEFAULT_SEED;

    @Override
    public Integer call() {
        ToyCorpus corpus = ToyCorpus.generate(seed);
        ToyDatasets.write(datasets, corpus);
        ToyTokenizerWriter.write(modelDir, corpus);
        System.out.printf("seed %d: %d training examples, %d held-out pairs, %d/%d held-out harmful/harmless%n",
                seed, corpus.train().size(), corpus.heldOutPairs().size(), corpus.harmfulEval().size(), corpus.harmlessEval().size());
        System.out.println("datasets: " + datasets.toAbsolutePath());
        System.out.println("tokenizer: " + modelDir.toAbsolutePath());
        return 0;
    }

    public static void main(String[] args) {
        int code = new CommandLine(new GenerateData()).execute(args);
        // exec:java runs in Maven's JVM: only exit on failure
        if (code != 0) System.exit(code);
    }
}
