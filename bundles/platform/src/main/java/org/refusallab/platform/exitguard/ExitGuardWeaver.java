package org.refusallab.platform.exitguard;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.osgi.framework.hooks.weaving.WeavingHook;
import org.osgi.framework.hooks.weaving.WovenClass;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OSGi weaving hook (register it as a {@link WeavingHook} service before analysis bundles load classes): in every
 * class of a bundle that imports a package of the analysis API ({@code org.refusallab.api.*}, i.e. analysis and study
 * bundles; the framework's own bundles, SCR, fileinstall, Gogo and test runners are left alone) it replaces
 * {@code System.exit(int)}, {@code Runtime.exit(int)} and {@code Runtime.halt(int)} by {@link ExitGuard}'s methods of the
 * same stack shape, and adds a dynamic import of this package.
 *
 * <p>Why weaving: it is OSGi's own mechanism for exactly this, works on every Java version (the SecurityManager that
 * used to block exits is deprecated in 17 and gone in 24), needs no agent on the command line, and touches only the
 * bundles that run analyses. Not covered: exits through reflection, method handles or JNI.
 */
public final class ExitGuardWeaver implements WeavingHook {

    private static final Logger LOG = LoggerFactory.getLogger(ExitGuardWeaver.class);
    static final String GUARD = ExitGuard.class.getName().replace('.', '/');
    static final String PACKAGE = ExitGuard.class.getPackageName();
    private static final String API_PREFIX = "org.refusallab.api.";
    /** Null on the launcher's class path (no bundle class loader weaves those classes). */
    private static final org.osgi.framework.Bundle OWN_BUNDLE = org.osgi.framework.FrameworkUtil.getBundle(ExitGuardWeaver.class);

    @Override
    public void weave(WovenClass wovenClass) {
        try {
            rewrite(wovenClass);
        } catch (RuntimeException | LinkageError e) {
            // Felix stops calling a hook that throws: say why, loudly, and leave this class as it was
            LOG.error("exit guard: cannot weave {}: {}", wovenClass.getClassName(), e.toString(), e);
            throw e;
        }
    }

    private void rewrite(WovenClass wovenClass) {
        // never the bundle holding this hook (the platform, where it is a bundle): weaving the weaver's own classes
        // while they load would recurse
        if (OWN_BUNDLE != null && wovenClass.getBundleWiring() != null && OWN_BUNDLE.equals(wovenClass.getBundleWiring().getBundle())) return;
        if (!importsTheAnalysisApi(wovenClass.getBundleWiring())) return;
        byte[] bytes = wovenClass.getBytes();
        if (!mayCallExit(bytes)) return;
        boolean[] changed = {false};
        ClassReader reader = new ClassReader(bytes);
        // frames are unchanged (each replacement has the caller's stack shape): no need to compute them
        ClassWriter writer = new ClassWriter(reader, 0);
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
                return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, descriptor, signature, exceptions)) {
                    @Override
                    public void visitMethodInsn(int opcode, String owner, String method, String desc, boolean isInterface) {
                        if (opcode == Opcodes.INVOKESTATIC && owner.equals("java/lang/System") && method.equals("exit") && desc.equals("(I)V")) {
                            changed[0] = true;
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, GUARD, "exit", "(I)V", false);
                        } else if (opcode == Opcodes.INVOKEVIRTUAL && owner.equals("java/lang/Runtime") && desc.equals("(I)V")
                                && (method.equals("exit") || method.equals("halt"))) {
                            changed[0] = true;
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, GUARD, method.equals("exit") ? "runtimeExit" : "runtimeHalt",
                                    "(Ljava/lang/Runtime;I)V", false);
                        } else {
                            super.visitMethodInsn(opcode, owner, method, desc, isInterface);
                        }
                    }
                };
            }
        }, 0);
        if (!changed[0]) return;
        wovenClass.setBytes(writer.toByteArray());
        wovenClass.getDynamicImports().add(PACKAGE);
        LOG.info("exit guard: rewrote the exit calls of {} in bundle {}", wovenClass.getClassName(),
                wovenClass.getBundleWiring().getBundle().getSymbolicName());
    }

    static boolean importsTheAnalysisApi(BundleWiring wiring) {
        if (wiring == null) return false;
        List<BundleWire> wires = wiring.getRequiredWires("osgi.wiring.package");
        if (wires == null) return false;
        for (BundleWire w : wires) {
            Object pkg = w.getCapability().getAttributes().get("osgi.wiring.package");
            if (pkg != null && pkg.toString().startsWith(API_PREFIX)) return true;
        }
        return false;
    }

    /** A cheap look at the constant pool before parsing: the owner class names must be there. */
    static boolean mayCallExit(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        return (text.contains("java/lang/System") || text.contains("java/lang/Runtime")) && (text.contains("exit") || text.contains("halt"));
    }
}
