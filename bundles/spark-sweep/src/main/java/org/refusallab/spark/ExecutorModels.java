package org.refusallab.spark;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import org.refusallab.api.model.HookedModel;
import org.refusallab.checkpoint.CheckpointDigest;
import org.refusallab.engine.Engine;
import org.refusallab.study.internal.InProcessSweep;

/**
 * The models of this JVM, one per {@link ModelKey}, loaded by the first task that needs one and kept for the JVM's
 * life: an executor loads the model once and runs every later batch on it.
 */
final class ExecutorModels {

    /** A model held by this JVM and what loading it took (0 when the driver handed over its own, in local mode). */
    record Held(HookedModel model, InProcessSweep sweep, long loadNanos) { }

    private static final ConcurrentHashMap<ModelKey, Held> HELD = new ConcurrentHashMap<>();

    private ExecutorModels() { }

    /** The model of {@code key}; the boolean of {@link Got} says whether this call loaded it. */
    record Got(Held held, boolean loadedNow) { }

    static Got get(ModelKey key) {
        Held h = HELD.get(key);
        if (h != null) return new Got(h, false);
        boolean[] loaded = {false};
        h = HELD.computeIfAbsent(key, k -> {
            loaded[0] = true;
            return load(k);
        });
        return new Got(h, loaded[0]);
    }

    /** Local mode: the executor is the driver's JVM, which already holds this model; no second copy. */
    static void seed(ModelKey key, HookedModel driverModel) {
        HELD.putIfAbsent(key, new Held(driverModel, new InProcessSweep(driverModel), 0));
    }

    /** Forgets a seeded or loaded model (closing is the owner's business for a seeded one). */
    static void forget(ModelKey key) {
        HELD.remove(key);
    }

    private static Held load(ModelKey key) {
        long t0 = System.nanoTime();
        Path dir = Path.of(key.checkpoint());
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("executor on " + host() + ": checkpoint folder " + dir + " not found; every executor reads the"
                    + " checkpoint at the driver's path (a shared file system, or the same folder copied to every node)");
        }
        String sum;
        try {
            sum = CheckpointDigest.sha256(dir);
        } catch (IOException e) {
            throw new IllegalStateException("executor on " + host() + ": cannot read the checkpoint " + dir + ": " + e.getMessage(), e);
        }
        if (!sum.equals(key.checksum())) {
            throw new IllegalStateException("executor on " + host() + ": the checkpoint at " + dir + " has SHA-256 " + sum
                    + ", the driver's has " + key.checksum() + " (a different or partly copied checkpoint)");
        }
        HookedModel m = Engine.load(dir, key.gelu());
        return new Held(m, new InProcessSweep(m), System.nanoTime() - t0);
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "an unknown host";
        }
    }
}
