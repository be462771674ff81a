package org.refusallab.spark;

import java.io.Serializable;

/**
 * Which model an executor holds: the checkpoint folder as the driver sees it (executors read the same path), the
 * SHA-256 of its files ({@link org.refusallab.checkpoint.CheckpointDigest}) and the GELU override (null: the
 * checkpoint's own).
 */
public record ModelKey(String checkpoint, String checksum, String gelu) implements Serializable { }
