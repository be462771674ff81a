package org.refusallab.launcher;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.sweep.SweepService;

/**
 * The Spark sweep service ({@code run --spark MASTER}), started in this JVM (the driver) but outside the OSGi
 * framework and outside the launcher's own class path: Spark needs Jackson 2.15 where the launcher has
 * {@code ${jackson.version}}, so its libraries live in their own folder (bundles/spark-sweep/target/spark/jars, or
 * {@code -Drefusallab.sparkJars=DIR}) and their own class loader. That loader looks in its own jars first, except for
 * the JDK and the packages it must share with the launcher: the API (the service is registered in the framework as
 * the launcher's SweepService), the engine with ND4J and JavaCPP (native libraries load once per JVM), and slf4j
 * (Spark then logs through the launcher's logger).
 */
final class SparkSweeps {

    static final String JARS_PROPERTY = "refusallab.sparkJars";
    static final String SERVICE_CLASS = "org.refusallab.spark.SparkSweep";

    /** Package prefixes the Spark loader takes from the launcher's class path, never from its own jars. */
    static final List<String> SHARED = List.of("org.refusallab.api.", "org.refusallab.engine.", "org.refusallab.checkpoint.",
            "org.refusallab.tokenizer.", "org.nd4j.", "org.bytedeco.", "ai.djl.", "org.slf4j.", "org.osgi.");

    private SparkSweeps() { }

    /** The started service: the framework sees {@code service}; {@code describe} goes into the report's summary. */
    record Started(SweepService service, AutoCloseable closer, String describe) { }

    static Path jarsDir(Path home) {
        String p = System.getProperty(JARS_PROPERTY);
        return p != null ? Path.of(p) : home.resolve("bundles/spark-sweep/target/spark/jars");
    }

    /**
     * Starts Spark for {@code master} and the sweep service on it. In local mode the executor is this JVM and uses
     * {@code driverModel}; elsewhere each executor loads {@code checkpoint} itself and checks it against {@code checksum}.
     */
    static Started start(String master, Path home, Path checkpoint, String gelu, String checksum, HookedModel driverModel) {
        if (master == null || master.isBlank()) throw new IllegalArgumentException("--spark needs a master: local[2], local-cluster[2,1,1024] or spark://host:port");
        Path jars = jarsDir(home);
        ClassLoader loader = loader(jars);
        try {
            Class<?> c = Class.forName(SERVICE_CLASS, true, loader);
            Object sweep = c.getMethod("open", String.class, Path.class, String.class, String.class, HookedModel.class)
                    .invoke(null, master, checkpoint, gelu, checksum, driverModel);
            return new Started((SweepService) sweep, (AutoCloseable) sweep, "Spark " + master.trim() + " (" + SERVICE_CLASS + ")");
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) throw re;
            throw new IllegalStateException("starting Spark (" + master + ") failed: " + cause, cause);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the Spark jars in " + jars + " hold no usable " + SERVICE_CLASS + ": " + e, e);
        }
    }

    static ClassLoader loader(Path jars) {
        if (!Files.isDirectory(jars)) {
            throw new IllegalArgumentException("Spark's jars not found: " + jars + " (build them: mvn -pl bundles/spark-sweep -am install -DskipTests,"
                    + " or point -D" + JARS_PROPERTY + " at such a folder)");
        }
        List<URL> urls = new ArrayList<>();
        try (Stream<Path> s = Files.list(jars)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".jar")).sorted().toList()) urls.add(p.toUri().toURL());
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the Spark jars folder " + jars + ": " + e.getMessage());
        }
        if (urls.isEmpty()) throw new IllegalArgumentException("the Spark jars folder " + jars + " holds no jar");
        return new OwnFirst(urls.toArray(URL[]::new), SparkSweeps.class.getClassLoader());
    }

    /** Its own jars before the parent's, except for the JDK and {@link #SHARED}. */
    static final class OwnFirst extends URLClassLoader {
        static {
            registerAsParallelCapable();
        }

        OwnFirst(URL[] urls, ClassLoader parent) {
            super("spark", urls, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null && (name.startsWith("java.") || isShared(name))) c = getParent().loadClass(name);
                if (c == null) {
                    try {
                        c = ClassLoader.getPlatformClassLoader().loadClass(name); // the JDK's javax.*, jdk.*, sun.*
                    } catch (ClassNotFoundException e) {
                        // not the JDK's
                    }
                }
                if (c == null) {
                    try {
                        c = findClass(name);
                    } catch (ClassNotFoundException e) {
                        c = getParent().loadClass(name);
                    }
                }
                if (resolve) resolveClass(c);
                return c;
            }
        }

        @Override
        public URL getResource(String name) {
            if (isShared(name.replace('/', '.'))) return getParent().getResource(name);
            URL own = findResource(name);
            return own != null ? own : super.getResource(name);
        }

        private static boolean isShared(String name) {
            for (String p : SHARED) if (name.startsWith(p)) return true;
            return false;
        }
    }
}
