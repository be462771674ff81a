package org.refusallab.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One safetensors file: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
 * byte range, then the raw little-endian data. {@link #open} reads and checks the header only; {@link #read} then
 * streams one tensor at a time through a small staging buffer into a float32 array, so a file is never held in
 * memory twice. Instances are not thread-safe (they reuse that buffer).
 */
public final class SafetensorsFile {

    /** One tensor of the header. {@code begin} and {@code end} are relative to the start of the data region. */
    public record Entry(String name, StoredDtype dtype, long[] shape, long begin, long end) {
        public long elementCount() {
            return SafetensorsFile.elementCount(shape);
        }
    }

    /** Hugging Face's own reader refuses headers above 100 MB; so do we, before allocating them. */
    static final long MAX_HEADER_BYTES = 100L << 20;
    private static final int CHUNK_BYTES = 4 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final long fileSize;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private ByteBuffer staging;

    private SafetensorsFile(Path file, long fileSize, long dataStart, Map<String, Entry> entries,
                            Map<String, String> metadata) {
        this.file = file;
        this.fileSize = fileSize;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Reads and validates the header: sizes, offsets within the file, byte counts matching shape x dtype. */
    public static SafetensorsFile open(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file + ": safetensors file does not exist");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointException(file + ": " + size + " bytes, too short for a safetensors header");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lengthBytes, 0, file, "header length");
            long headerLength = lengthBytes.flip().getLong();
            if (headerLength < 2 || headerLength > size - 8) {
                throw new CheckpointException(file + ": header length " + Long.toUnsignedString(headerLength)
                        + " bytes goes past the end of the file (" + size + " bytes): truncated or not safetensors");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw new CheckpointException(file + ": header length " + headerLength + " bytes exceeds "
                        + MAX_HEADER_BYTES + " bytes");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            readFully(ch, headerBytes, 8, file, "header");
            String headerText = new String(headerBytes.array(), StandardCharsets.UTF_8);
            long dataStart = 8 + headerLength;
            return parseHeader(file, size, dataStart, headerText);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static SafetensorsFile parseHeader(Path file, long fileSize, long dataStart, String headerText) {
        JsonNode root;
        try {
            root = JSON.readTree(headerText);
        } catch (IOException e) {
            throw new CheckpointException(file + ": header is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file + ": header is not a JSON object");
        }
        long dataLength = fileSize - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode node = field.getValue();
            if ("__metadata__".equals(name)) {
                if (node.isObject()) {
                    node.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                }
                continue;
            }
            entries.put(name, parseEntry(file, name, node, dataLength));
        }
        return new SafetensorsFile(file, fileSize, dataStart, Collections.unmodifiableMap(entries),
                Collections.unmodifiableMap(metadata));
    }

    private static Entry parseEntry(Path file, String name, JsonNode node, long dataLength) {
        String where = file + ": tensor " + name;
        JsonNode dtypeNode = node.get("dtype");
        JsonNode shapeNode = node.get("shape");
        JsonNode offsetsNode = node.get("data_offsets");
        if (dtypeNode == null || !dtypeNode.isTextual() || shapeNode == null || !shapeNode.isArray()
                || offsetsNode == null || !offsetsNode.isArray() || offsetsNode.size() != 2) {
            throw new CheckpointException(where + ": header entry needs dtype, shape and data_offsets [begin, end], found "
                    + node);
        }
        StoredDtype dtype = StoredDtype.fromSafetensorsCode(dtypeNode.asText());
        if (dtype == null) {
            throw new CheckpointException(where + ": unsupported dtype " + dtypeNode.asText()
                    + " (supported: F32, BF16, F16)");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode dim = shapeNode.get(i);
            if (!dim.isIntegralNumber() || !dim.canConvertToLong() || dim.longValue() < 0) {
                throw new CheckpointException(where + ": invalid shape " + shapeNode);
            }
            shape[i] = dim.longValue();
        }
        JsonNode b = offsetsNode.get(0);
        JsonNode e = offsetsNode.get(1);
        if (!b.isIntegralNumber() || !e.isIntegralNumber() || !b.canConvertToLong() || !e.canConvertToLong()
                || b.longValue() < 0 || e.longValue() < b.longValue()) {
            throw new CheckpointException(where + ": invalid data_offsets " + offsetsNode);
        }
        long begin = b.longValue();
        long end = e.longValue();
        if (end > dataLength) {
            throw new CheckpointException(where + ": data_offsets " + offsetsNode + " point past the end of the file"
                    + " (data region is " + dataLength + " bytes): the file is truncated or corrupt");
        }
        long expectedBytes;
        try {
            expectedBytes = Math.multiplyExact(elementCount(shape), (long) dtype.bytes());
        } catch (ArithmeticException overflow) {
            throw new CheckpointException(where + ": shape " + shapeNode + " is too large");
        }
        if (end - begin != expectedBytes) {
            throw new CheckpointException(where + ": data_offsets " + offsetsNode + " hold " + (end - begin)
                    + " bytes but shape " + Arrays.toString(shape) + " of " + dtype + " needs " + expectedBytes);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    public Path file() {
        return file;
    }

    public long fileSize() {
        return fileSize;
    }

    /** Byte offset of the data region: 8 + header length. */
    public long dataStart() {
        return dataStart;
    }

    /** Header entries by tensor name, in header order. */
    public Map<String, Entry> tensors() {
        return entries;
    }

    /** The header's {@code __metadata__} (e.g. format: pt). */
    public Map<String, String> metadata() {
        return metadata;
    }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointException(file + ": no tensor " + name + " in this file");
        }
        return e;
    }

    /**
     * Reads one tensor as a new float32 array of its stored shape (converting BF16 / F16), chunk by chunk, and
     * fails naming the tensor, the file and the first element if any value is NaN or infinite.
     */
    public INDArray read(String name) {
        Entry e = entry(name);
        INDArray array = Nd4j.createUninitialized(DataType.FLOAT, e.shape());
        long n = e.elementCount();
        if (n == 0) {
            return array;
        }
        if (array.data().offset() != 0 || array.data().length() != n) {
            throw new IllegalStateException("ND4J returned a view for a fresh array of shape "
                    + Arrays.toString(e.shape()));
        }
        if (staging == null) {
            staging = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        }
        FloatPointer destination = new FloatPointer(array.data().addressPointer());
        int bytesPerElement = e.dtype().bytes();
        int elementsPerChunk = CHUNK_BYTES / bytesPerElement;
        float[] floats = new float[(int) Math.min(elementsPerChunk, n)];
        short[] halves = e.dtype() == StoredDtype.F32 ? null : new short[floats.length];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long done = 0;
            while (done < n) {
                int count = (int) Math.min(elementsPerChunk, n - done);
                staging.clear().limit(count * bytesPerElement);
                readFully(ch, staging, dataStart + e.begin() + done * bytesPerElement, file, "tensor " + name);
                staging.flip();
                switch (e.dtype()) {
                    case F32 -> staging.asFloatBuffer().get(floats, 0, count);
                    case BF16 -> {
                        staging.asShortBuffer().get(halves, 0, count);
                        for (int i = 0; i < count; i++) {
                            floats[i] = StoredDtype.bf16ToFloat(halves[i]);
                        }
                    }
                    case F16 -> {
                        staging.asShortBuffer().get(halves, 0, count);
                        for (int i = 0; i < count; i++) {
                            floats[i] = StoredDtype.f16ToFloat(halves[i]);
                        }
                    }
                    default -> throw new IllegalStateException(e.dtype().toString());
                }
                for (int i = 0; i < count; i++) {
                    if (!Float.isFinite(floats[i])) {
                        throw nonFinite(e, done + i, floats[i]);
                    }
                }
                destination.position(done).limit(done + count);
                destination.asBuffer().put(floats, 0, count);
                done += count;
            }
        } catch (IOException ex) {
            throw new CheckpointException(file + ": cannot read tensor " + name + ": " + ex.getMessage(), ex);
        }
        // the data was written through the host pointer; a GPU backend must copy it over before use
        Nd4j.getAffinityManager().tagLocation(array, AffinityManager.Location.HOST);
        return array;
    }

    private CheckpointException nonFinite(Entry e, long flatIndex, float value) {
        long[] index = new long[e.shape().length];
        long rest = flatIndex;
        for (int d = index.length - 1; d >= 0; d--) {
            index[d] = rest % e.shape()[d];
            rest /= e.shape()[d];
        }
        return new CheckpointException(file + ": tensor " + e.name() + " holds " + value + " at index "
                + Arrays.toString(index) + ": the checkpoint is corrupt or diverged");
    }

    static long elementCount(long[] shape) {
        long n = 1;
        for (long dim : shape) {
            n = Math.multiplyExact(n, dim);
        }
        return n;
    }

    private static void readFully(FileChannel ch, ByteBuffer buffer, long position, Path file, String what)
            throws IOException {
        long pos = position;
        while (buffer.hasRemaining()) {
            int read = ch.read(buffer, pos);
            if (read < 0) {
                throw new CheckpointException(file + ": unexpected end of file while reading " + what
                        + " at byte " + pos + ": the file is truncated");
            }
            pos += read;
        }
    }
}
