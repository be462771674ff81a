package org.refusallab.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.refusallab.checkpoint.TestCheckpoints.assertMentions;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hand-built files for what the writer does not produce: float16 data. */
class SafetensorsFileTest {

    @TempDir
    Path tmp;

    private Path f16File(short... halves) throws IOException {
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2," + halves.length / 2 + "],\"data_offsets\":[0,"
                + 2 * halves.length + "]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + 2 * halves.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        for (short h : halves) {
            b.putShort(h);
        }
        Path file = tmp.resolve("half.safetensors");
        Files.write(file, b.array());
        return file;
    }

    @Test
    void float16ValuesIncludingSubnormals() throws IOException {
        // IEEE binary16 bit patterns and their values worked out by hand
        short[] bits = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001, (short) 0x8400, 0x3555, 0x0000, (short) 0x8000,
                0x03FF, 0x0400};
        float[] expected = {1f, -2f, 65504f, 0x1p-24f, -0x1p-14f, 0.333251953125f, 0f, -0f,
                1023 * 0x1p-24f, 0x1p-14f};
        SafetensorsFile file = SafetensorsFile.open(f16File(bits));
        assertEquals(StoredDtype.F16, file.entry("h").dtype());
        float[] read = file.read("h").reshape(-1).toFloatVector();
        assertArrayEquals(expected, read, 0f);
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(read[7]));
    }

    @Test
    void float16InfinityAndNaNAreRejected() throws IOException {
        Path inf = f16File((short) 0x3C00, (short) 0x7C00);
        assertMentions(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(inf).read("h")),
                inf.toString(), "tensor h", "Infinity", "[1, 0]");
        Path nan = f16File((short) 0x7E00, (short) 0x3C00);
        assertMentions(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(nan).read("h")),
                nan.toString(), "tensor h", "NaN", "[0, 0]");
    }

    @Test
    void tooShortFile() throws IOException {
        Path file = tmp.resolve("short.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertMentions(assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file)), file.toString(),
                "too short");
    }

    @Test
    void bf16ConversionsMatchTheirDefinition() {
        assertEquals(1f, StoredDtype.bf16ToFloat((short) 0x3F80));
        assertEquals(-2f, StoredDtype.bf16ToFloat((short) 0xC000));
        assertEquals((short) 0x3F80, StoredDtype.floatToBf16(1f + 0x1p-8f)); // tie: to even (down)
        assertEquals((short) 0x3F82, StoredDtype.floatToBf16(1f + 3 * 0x1p-8f)); // tie: to even (up)
        assertEquals((short) 0x7F80, StoredDtype.floatToBf16(Float.MAX_VALUE)); // overflows to +inf, as PyTorch
        assertEquals(true, Float.isNaN(StoredDtype.bf16ToFloat(StoredDtype.floatToBf16(Float.NaN))));
    }
}
