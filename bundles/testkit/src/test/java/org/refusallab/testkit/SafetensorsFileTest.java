package org.refusallab.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.api.model.Tensor;

class SafetensorsFileTest {

    @TempDir
    Path dir;

    @Test
    void readsFloat32Float16AndBfloat16() throws IOException {
        // F32 [2,2] = 1, -2.5, 3e-3, 7; F16 [3] = 1, -2, 2^-24 (smallest subnormal); BF16 [2] = 1, -0.5
        ByteBuffer data = ByteBuffer.allocate(16 + 6 + 4).order(ByteOrder.LITTLE_ENDIAN);
        data.putFloat(1f).putFloat(-2.5f).putFloat(3e-3f).putFloat(7f);
        data.putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x0001);
        data.putShort((short) 0x3F80).putShort((short) 0xBF00);
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[16,22]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[22,26]}}";
        Path file = write(header, data.array());
        Map<String, Tensor> t = SafetensorsFile.read(file);
        assertArrayEquals(new long[] {2, 2}, t.get("a").shape());
        assertArrayEquals(new float[] {1f, -2.5f, 3e-3f, 7f}, t.get("a").data());
        assertArrayEquals(new float[] {1f, -2f, (float) Math.scalb(1.0, -24)}, t.get("h").data());
        assertArrayEquals(new float[] {1f, -0.5f}, t.get("b").data());
        assertEquals(65504f, SafetensorsFile.halfToFloat((short) 0x7BFF));
        assertEquals(Float.NEGATIVE_INFINITY, SafetensorsFile.halfToFloat((short) 0xFC00));
    }

    @Test
    void offsetsThatDoNotFitAreRejectedWithTheTensorName() throws IOException {
        Path file = write("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.read(file));
        assertTrue(e.getMessage().contains("tensor w") && e.getMessage().contains(file.toString()), e.getMessage());
        Path i32 = write("{\"n\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.read(i32)).getMessage().contains("dtype I32"));
        // int64 (token ids, as refusal-lab cache writes input_ids) is read, widened to float
        Path i64 = write("{\"n\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
                ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(137).array());
        assertArrayEquals(new float[] {137f}, SafetensorsFile.read(i64).get("n").data());
        assertEquals("I64", SafetensorsFile.dtypes(i64).get("n"));
    }

    private Path write(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.write(h);
        out.write(data);
        Path file = Files.createTempFile(dir, "t", ".safetensors");
        Files.write(file, out.toByteArray());
        return file;
    }
}
