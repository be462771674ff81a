package org.refusallab.study.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.refusallab.api.study.RefusalDirection;

/** Saving and loading the refusal direction: JSON with its coordinates, or a bare .npy vector. */
final class DirectionFiles {

    private static final ObjectMapper JSON = new ObjectMapper();

    private DirectionFiles() { }

    /** JSON: {@code {"layer": L, "position": p, "source": "...", "values": [...]}}. */
    static void writeJson(RefusalDirection d, Path file) throws IOException {
        int layer = d.layer(), position = d.position();
        String source = d.source();
        float[] values = d.values();
        ObjectNode n = JSON.createObjectNode();
        n.put("layer", layer);
        n.put("position", position);
        n.put("source", source);
        var arr = n.putArray("values");
        for (float v : values) arr.add(v);
        Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n), StandardCharsets.UTF_8);
    }

    /** A 1-D float32 little-endian .npy file of the values (layer and position are not kept). */
    static void writeNpy(RefusalDirection d, Path file) throws IOException {
        Files.write(file, Npy.float32Vector(d.values()));
    }

    /**
     * Loads a direction computed elsewhere: {@code .npy} (1-D float32 or float64; layer/position as given here, -1
     * for unknown layer) or {@code .json} (an object as written by {@link #writeJson}, or a bare array of numbers).
     */
    static RefusalDirection load(Path file, int layerIfUnknown, int positionIfUnknown) {
        String name = file.getFileName().toString().toLowerCase();
        try {
            if (name.endsWith(".npy")) {
                return new RefusalDirection(layerIfUnknown, positionIfUnknown, Npy.readVector(Files.readAllBytes(file), file.toString()), file.toString());
            }
            if (name.endsWith(".json")) {
                JsonNode n = JSON.readTree(file.toFile());
                JsonNode vals = n.isArray() ? n : n.get("values");
                if (vals == null || !vals.isArray()) throw new IllegalArgumentException(file + ": expected an array of numbers or an object with \"values\"");
                float[] v = new float[vals.size()];
                for (int i = 0; i < v.length; i++) {
                    if (!vals.get(i).isNumber()) throw new IllegalArgumentException(file + ": values[" + i + "] is not a number: " + vals.get(i));
                    v[i] = (float) vals.get(i).asDouble();
                }
                int layer = n.isObject() && n.has("layer") ? n.get("layer").asInt() : layerIfUnknown;
                int pos = n.isObject() && n.has("position") ? n.get("position").asInt() : positionIfUnknown;
                return new RefusalDirection(layer, pos, v, file.toString());
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read refusal direction: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException(file + ": unknown refusal direction file type (use .npy or .json)");
    }

    /** Minimal NumPy .npy (format 1.0) for one 1-D little-endian float vector. */
    static final class Npy {
        private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

        static byte[] float32Vector(float[] v) {
            String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + v.length + ",), }";
            // header (magic 6 + version 2 + length 2 + dict + padding + \n) is a multiple of 64 bytes
            int unpadded = 10 + dict.length() + 1;
            int pad = (64 - unpadded % 64) % 64;
            String header = dict + " ".repeat(pad) + "\n";
            ByteBuffer b = ByteBuffer.allocate(10 + header.length() + 4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
            b.put(header.getBytes(StandardCharsets.US_ASCII));
            for (float x : v) b.putFloat(x);
            return b.array();
        }

        static float[] readVector(byte[] bytes, String name) {
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            for (byte m : MAGIC) {
                if (!b.hasRemaining() || b.get() != m) throw new IllegalArgumentException(name + ": not a .npy file");
            }
            int major = b.get();
            b.get();
            int headerLen = major == 1 ? Short.toUnsignedInt(b.getShort()) : b.getInt();
            String header = new String(bytes, b.position(), headerLen, StandardCharsets.US_ASCII);
            b.position(b.position() + headerLen);
            String descr = field(header, "descr", name);
            if (header.contains("'fortran_order': True")) throw new IllegalArgumentException(name + ": Fortran-ordered arrays are not supported");
            String shape = header.replaceAll("(?s).*'shape':\\s*\\(([^)]*)\\).*", "$1").trim();
            String[] dims = shape.split(",");
            long n = 1;
            int nonTrivial = 0;
            for (String d : dims) {
                if (d.isBlank()) continue;
                long k = Long.parseLong(d.trim());
                if (k != 1) nonTrivial++;
                n *= k;
            }
            if (nonTrivial > 1) throw new IllegalArgumentException(name + ": expected a vector, got shape (" + shape + ")");
            float[] out = new float[Math.toIntExact(n)];
            switch (descr) {
                case "<f4" -> { for (int i = 0; i < out.length; i++) out[i] = b.getFloat(); }
                case "<f8" -> { for (int i = 0; i < out.length; i++) out[i] = (float) b.getDouble(); }
                default -> throw new IllegalArgumentException(name + ": unsupported dtype " + descr + " (use float32 '<f4' or float64 '<f8')");
            }
            return out;
        }

        private static String field(String header, String key, String name) {
            var m = java.util.regex.Pattern.compile("'" + key + "':\\s*'([^']*)'").matcher(header);
            if (!m.find()) throw new IllegalArgumentException(name + ": .npy header has no " + key + ": " + header);
            return m.group(1);
        }
    }
}
