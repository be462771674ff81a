package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spark's class loader over bundles/spark-sweep/target/spark/jars (built before the launcher): Spark's libraries come
 * from there, Jackson at Spark's version beside the launcher's own, while the API and ND4J are the launcher's classes.
 */
class SparkSweepsTest {

    static final Path JARS = Path.of(System.getProperty(SparkSweeps.JARS_PROPERTY, "../spark-sweep/target/spark/jars"));

    @Test
    void sparkAndItsJacksonComeFromItsOwnFolderTheApiAndNd4jFromTheLauncher() throws Exception {
        ClassLoader spark = SparkSweeps.loader(JARS);
        Class<?> ownMapper = Class.forName("com.fasterxml.jackson.databind.ObjectMapper", false, spark);
        assertNotSame(com.fasterxml.jackson.databind.ObjectMapper.class, ownMapper);
        assertTrue(version(ownMapper).startsWith("2.15."), "Spark's databind: " + version(ownMapper));
        assertTrue(version(com.fasterxml.jackson.databind.ObjectMapper.class).startsWith("2.18."));
        Class<?> scalaModule = Class.forName("com.fasterxml.jackson.module.scala.DefaultScalaModule", false, spark);
        assertSame(spark, scalaModule.getClassLoader());
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.apache.spark.SparkContext", false, SparkSweepsTest.class.getClassLoader()),
                "Spark is not on the launcher's class path");
        assertSame(spark, Class.forName("org.apache.spark.SparkContext", false, spark).getClassLoader());

        assertSame(org.refusallab.api.sweep.SweepService.class, Class.forName("org.refusallab.api.sweep.SweepService", false, spark));
        assertSame(org.nd4j.linalg.factory.Nd4j.class, Class.forName("org.nd4j.linalg.factory.Nd4j", false, spark));
        assertSame(org.refusallab.engine.Engine.class, Class.forName("org.refusallab.engine.Engine", false, spark));
        Class<?> service = Class.forName(SparkSweeps.SERVICE_CLASS, false, spark);
        assertTrue(org.refusallab.api.sweep.SweepService.class.isAssignableFrom(service));
    }

    @Test
    void aMissingJarsFolderIsNamed(@TempDir Path tmp) {
        var e = assertThrows(IllegalArgumentException.class, () -> SparkSweeps.loader(tmp.resolve("nothing")));
        assertTrue(e.getMessage().startsWith("Spark's jars not found: " + tmp.resolve("nothing")), e.getMessage());
        var empty = assertThrows(IllegalArgumentException.class, () -> SparkSweeps.loader(tmp));
        assertTrue(empty.getMessage().contains("holds no jar"), empty.getMessage());
    }

    private static String version(Class<?> c) throws Exception {
        Object v = c.getMethod("version").invoke(c.getDeclaredConstructor().newInstance());
        return v.toString();
    }
}
