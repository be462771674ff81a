package org.refusallab.checkpoint;

import java.util.Locale;

/** The element types this module reads from (all three) and writes to (F32, BF16) safetensors files. */
public enum StoredDtype {
    F32(4, "float32"), BF16(2, "bfloat16"), F16(2, "float16");

    private final int bytes;
    private final String torchName;

    StoredDtype(int bytes, String torchName) {
        this.bytes = bytes;
        this.torchName = torchName;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The name PyTorch and config.json's torch_dtype use ("bfloat16"). */
    public String torchName() {
        return torchName;
    }

    /** The safetensors dtype code ("BF16"), or null if this module cannot read it. */
    public static StoredDtype fromSafetensorsCode(String code) {
        for (StoredDtype d : values()) {
            if (d.name().equals(code)) {
                return d;
            }
        }
        return null;
    }

    /** Parses "bf16", "BF16" or "bfloat16". */
    public static StoredDtype parse(String s) {
        String t = s.trim().toUpperCase(Locale.ROOT);
        for (StoredDtype d : values()) {
            if (d.name().equals(t) || d.torchName.toUpperCase(Locale.ROOT).equals(t)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown stored dtype '" + s + "' (use f32, bf16 or f16)");
    }

    /** bfloat16 is the upper half of a float32. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** float32 to bfloat16 with round-to-nearest-even, as PyTorch's {@code tensor.to(torch.bfloat16)}. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            // keep the sign, force a quiet-NaN mantissa bit so truncation cannot turn it into infinity
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** IEEE binary16 to float32 (Float.float16ToFloat only exists from Java 20). */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xFFFF;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        float magnitude;
        if (exponent == 0) {
            magnitude = mantissa * 0x1p-24f; // zero and subnormals: mantissa x 2^-24, exact in float32
        } else if (exponent == 0x1F) {
            magnitude = mantissa == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else {
            magnitude = Float.intBitsToFloat(((exponent + 127 - 15) << 23) | (mantissa << 13));
        }
        return (h & 0x8000) != 0 ? -magnitude : magnitude;
    }
}
