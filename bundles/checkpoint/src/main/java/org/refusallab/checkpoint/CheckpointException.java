package org.refusallab.checkpoint;

/**
 * A checkpoint that cannot be read or written as asked. The message always names the file and, where one is
 * involved, the tensor, so the user can find the problem without a debugger.
 */
public class CheckpointException extends RuntimeException {

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
