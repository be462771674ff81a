package org.refusallab.platform.exitguard;

import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkUtil;

/**
 * What woven calls to System.exit, Runtime.exit and Runtime.halt call instead ({@link ExitGuardWeaver}): they throw
 * {@link ExitRefused}, so the analysis that called them fails with that message and the process goes on.
 */
public final class ExitGuard {

    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    private ExitGuard() { }

    /** Replaces {@code System.exit(status)}. */
    public static void exit(int status) {
        throw refused("System.exit(" + status + ")");
    }

    /** Replaces {@code runtime.exit(status)}. */
    public static void runtimeExit(Runtime runtime, int status) {
        throw refused("Runtime.exit(" + status + ")");
    }

    /** Replaces {@code runtime.halt(status)}. */
    public static void runtimeHalt(Runtime runtime, int status) {
        throw refused("Runtime.halt(" + status + ")");
    }

    private static ExitRefused refused(String call) {
        // frame 0 is refused(), 1 the replaced call above, 2 the woven caller
        Class<?> caller = WALKER.walk(frames -> frames.skip(2).findFirst().map(StackWalker.StackFrame::getDeclaringClass).orElse(null));
        Bundle b = caller == null ? null : FrameworkUtil.getBundle(caller);
        String where = (caller == null ? "?" : caller.getName()) + (b == null ? "" : " in bundle " + b.getSymbolicName() + " " + b.getVersion());
        return new ExitRefused(call + " called by " + where + ": an analysis may not end the process (refused by the platform's exit guard)");
    }

    /** Thrown in place of ending the process. */
    public static final class ExitRefused extends SecurityException {
        private static final long serialVersionUID = 1L;

        ExitRefused(String message) {
            super(message);
        }
    }
}
