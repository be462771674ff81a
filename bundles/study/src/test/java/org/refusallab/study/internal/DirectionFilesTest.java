package org.refusallab.study.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.api.study.RefusalDirection;

class DirectionFilesTest {

    @TempDir
    Path dir;

    private static final float[] VALUES = {0.5f, -1.25f, 3.0f, 1e-3f};

    private Path resource(String name) throws Exception {
        Path p = dir.resolve(name);
        try (InputStream in = getClass().getResourceAsStream(name)) {
            Files.copy(in, p);
        }
        return p;
    }

    @Test
    void jsonRoundTripKeepsLayerPositionAndValues() throws Exception {
        var d = new RefusalDirection(7, -2, new float[] {1.5f, -2f, 0.1f}, "test");
        Path f = dir.resolve("d.json");
        DirectionFiles.writeJson(d, f);
        var back = DirectionFiles.load(f, -1, 0);
        assertEquals(7, back.layer());
        assertEquals(-2, back.position());
        assertArrayEquals(d.values(), back.values());
    }

    @Test
    void aBareJsonArrayIsAccepted() throws Exception {
        Path f = Files.writeString(dir.resolve("v.json"), "[0.5, -1.25, 3.0, 0.001]");
        var d = DirectionFiles.load(f, 3, -1);
        assertArrayEquals(VALUES, d.values());
        assertEquals(3, d.layer());
        Path bad = Files.writeString(dir.resolve("b.json"), "{\"values\": [1, \"x\"]}");
        var e = assertThrows(IllegalArgumentException.class, () -> DirectionFiles.load(bad, 0, 0));
        assertTrue(e.getMessage().contains("b.json") && e.getMessage().contains("values[1]"), e.getMessage());
    }

    @Test
    void npyWrittenHereIsByteIdenticalToNumpysAndReadsBack() throws Exception {
        // direction-f32.npy was written by numpy.save(np.array([0.5, -1.25, 3.0, 1e-3], dtype=np.float32))
        byte[] numpy = Files.readAllBytes(resource("direction-f32.npy"));
        Path mine = dir.resolve("mine.npy");
        DirectionFiles.writeNpy(new RefusalDirection(1, -1, VALUES, "test"), mine);
        assertArrayEquals(numpy, Files.readAllBytes(mine));
        assertArrayEquals(VALUES, DirectionFiles.load(mine, 1, -1).values());
    }

    @Test
    void numpyFloat64VectorsAreReadAndMatricesRefused() throws Exception {
        var d = DirectionFiles.load(resource("direction-f64.npy"), 2, -1);
        assertArrayEquals(VALUES, d.values());
        assertEquals(2, d.layer());
        var e = assertThrows(IllegalArgumentException.class, () -> DirectionFiles.load(resource("matrix.npy"), 0, 0));
        assertTrue(e.getMessage().contains("expected a vector"), e.getMessage());
        Path notNpy = Files.writeString(dir.resolve("x.npy"), "hello");
        assertThrows(IllegalArgumentException.class, () -> DirectionFiles.load(notNpy, 0, 0));
    }

    @Test
    void unitHasNormOne() {
        var d = new RefusalDirection(0, -1, new float[] {3f, 4f}, "t");
        assertEquals(5.0, d.norm(), 1e-12);
        assertArrayEquals(new float[] {0.6f, 0.8f}, d.unit(), 1e-7f);
    }
}
