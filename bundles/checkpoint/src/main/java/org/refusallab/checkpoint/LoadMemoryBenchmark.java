package org.refusallab.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Peak-memory benchmark of {@link Checkpoint#load} (not a unit test; run by bench/checkpoint-load-rss.sh).
 * {@code write DIR} writes random weights of gemma-2b's shapes as a two-shard bf16 checkpoint (about 5 GB);
 * {@code load DIR}, in a fresh JVM, loads it and prints peak RSS (VmHWM) against the float32 weight bytes.
 */
public final class LoadMemoryBenchmark {

    private LoadMemoryBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2 || !(args[0].equals("write") || args[0].equals("load"))) {
            System.err.println("usage: LoadMemoryBenchmark write DIR [LAYERS] | load DIR");
            System.exit(2);
        }
        Path dir = Path.of(args[1]);
        if (args[0].equals("write")) {
            write(dir, args.length > 2 ? Integer.parseInt(args[2]) : GemmaConfig.gemma2b().numLayers());
        } else {
            load(dir);
        }
    }

    /** @param layers gemma-2b has 18; fewer make a smaller checkpoint of the same tensor shapes, for profiling */
    private static void write(Path dir, int layers) {
        GemmaConfig g = GemmaConfig.gemma2b();
        GemmaConfig config = new GemmaConfig(g.modelType(), g.vocabSize(), g.hiddenSize(), g.intermediateSize(), layers,
                g.numHeads(), g.numKvHeads(), g.headDim(), g.rmsNormEps(), g.ropeTheta(), g.gelu(), g.torchDtype(),
                g.bosTokenId(), g.eosTokenId(), g.padTokenId(), g.maxPositionEmbeddings());
        Map<String, long[]> shapes = GemmaTensors.expectedShapes(config);
        long bf16Bytes = config.parameterCount() * 2;
        long maxShard = bf16Bytes * 6 / 10; // two shards, the first a bit larger, as transformers splits
        Nd4j.getRandom().setSeed(20240601L);
        INDArray[] previous = new INDArray[1];
        long start = System.nanoTime();
        CheckpointWriter.write(dir, config, shapes, name -> {
            if (previous[0] != null) {
                previous[0].close(); // free each random tensor once written, instead of waiting for GC
            }
            previous[0] = Nd4j.randn(DataType.FLOAT, shapes.get(name)).muli(0.02);
            return previous[0];
        }, StoredDtype.BF16, maxShard);
        System.out.printf("wrote %d parameters (%.2f GB bf16) to %s in %.1f s%n", config.parameterCount(),
                bf16Bytes / 1e9, dir, (System.nanoTime() - start) / 1e9);
    }

    private static void load(Path dir) throws IOException {
        Nd4j.create(1); // initialise ND4J first, so the baseline includes its native libraries
        long baseline = statusKb("VmHWM");
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean();
        long cpuStart = os.getProcessCpuTime();
        long start = System.nanoTime();
        LoadedCheckpoint loaded = Checkpoint.load(dir);
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = (os.getProcessCpuTime() - cpuStart) / 1e9;
        long floatBytes = loaded.weights().values().stream().mapToLong(w -> w.length() * 4L).sum();
        long peak = statusKb("VmHWM") * 1024;
        long rss = statusKb("VmRSS") * 1024;
        System.out.printf("loaded %d tensors (stored %s) in %.1f s wall, %.1f s CPU (user + system)%n",
                loaded.weights().size(), loaded.storedDtype(), seconds, cpuSeconds);
        System.out.printf("float32 weight bytes : %.3f GB%n", floatBytes / 1e9);
        System.out.printf("peak RSS before load : %.3f GB (JVM + ND4J)%n", baseline * 1024 / 1e9);
        System.out.printf("peak RSS (VmHWM)     : %.3f GB%n", peak / 1e9);
        System.out.printf("RSS after load       : %.3f GB%n", rss / 1e9);
        System.out.printf("peak RSS / float32   : %.3f (target < 1.2)%n", peak / (double) floatBytes);
    }

    private static long statusKb(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException(field + " not in /proc/self/status");
    }
}
