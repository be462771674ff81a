package org.refusallab.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.refusallab.api.model.Tensor;

/**
 * A small, independent reader of the safetensors format (8-byte little-endian header length, a JSON header of
 * {@code name -> {dtype, shape, data_offsets}}, then raw little-endian data), so that tests can check the engine's
 * checkpoint loader instead of sharing it. Reads F32, F16 and BF16 into float32; meant for test-sized files.
 */
public final class SafetensorsFile {

    private SafetensorsFile() {
    }

    /** Every tensor of the file by name, in header order, widened to float32. */
    public static Map<String, Tensor> read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read safetensors file " + file, e);
        }
        if (bytes.length < 8) throw new IllegalArgumentException(file + ": too short for a safetensors header");
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = buf.getLong(0);
        if (headerLength <= 0 || headerLength > bytes.length - 8) {
            throw new IllegalArgumentException(file + ": header length " + headerLength + " does not fit a file of " + bytes.length + " bytes");
        }
        int dataStart = 8 + (int) headerLength;
        JsonNode header;
        try {
            header = new ObjectMapper().readTree(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": unreadable JSON header", e);
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            tensors.put(e.getKey(), decode(file, e.getKey(), e.getValue(), buf, dataStart));
        }
        return tensors;
    }

    /** Each tensor's dtype as the header names it (F32, BF16, I64, ...). */
    public static Map<String, String> dtypes(Path file) {
        try (var in = Files.newInputStream(file)) {
            byte[] len = in.readNBytes(8);
            long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
            JsonNode header = new ObjectMapper().readTree(new String(in.readNBytes((int) n), StandardCharsets.UTF_8));
            Map<String, String> out = new LinkedHashMap<>();
            header.fields().forEachRemaining(e -> { if (!e.getKey().equals("__metadata__")) out.put(e.getKey(), e.getValue().path("dtype").asText()); });
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read safetensors header of " + file, e);
        }
    }

    private static Tensor decode(Path file, String name, JsonNode info, ByteBuffer buf, int dataStart) {
        String dtype = info.path("dtype").asText();
        JsonNode shapeNode = info.path("shape");
        long[] shape = new long[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong();
            count *= shape[i];
        }
        long begin = info.path("data_offsets").path(0).asLong(-1);
        long end = info.path("data_offsets").path(1).asLong(-1);
        int width = switch (dtype) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            case "I64" -> 8; // token ids; widened to float (exact below 2^24)
            default -> throw new IllegalArgumentException(file + ": tensor " + name + " has dtype " + dtype + " (only F32, F16, BF16, I64 are read)");
        };
        if (begin < 0 || end - begin != count * width || dataStart + end > buf.capacity()) {
            throw new IllegalArgumentException(file + ": tensor " + name + " has data_offsets [" + begin + ", " + end
                    + "] that do not match " + count + " values of " + dtype + " inside the file");
        }
        float[] values = new float[Math.toIntExact(count)];
        int at = dataStart + (int) begin;
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (dtype) {
                case "F32" -> buf.getFloat(at + 4 * i);
                case "BF16" -> Float.intBitsToFloat((buf.getShort(at + 2 * i) & 0xffff) << 16);
                case "I64" -> (float) buf.getLong(at + 8 * i);
                default -> halfToFloat(buf.getShort(at + 2 * i));
            };
        }
        return new Tensor(shape, values);
    }

    /** IEEE 754 binary16 to float32 (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h >>> 15) == 0 ? 1 : -1;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0) return sign * mantissa * 0x1p-24f; // zero and subnormals
        if (exponent == 31) return mantissa == 0 ? sign * Float.POSITIVE_INFINITY : Float.NaN;
        return sign * (1 + mantissa / 1024f) * (float) Math.scalb(1.0, exponent - 15);
    }
}
