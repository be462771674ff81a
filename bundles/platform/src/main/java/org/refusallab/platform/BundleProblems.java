package org.refusallab.platform;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;

/**
 * Why a bundle is not doing its job, in one line for the log and the report's failed bundles: it does not resolve (the
 * resolver's reason), its activator throws, or its analysis component fails to activate (SCR's recorded failure).
 *
 * <p>The reason for a bundle that is installed but not active is found by starting it once per bundle revision (the
 * exception's message is the framework's own explanation; fileinstall tries the same at every scan). A revision that
 * started once and was stopped later (by hand, in the shell) is left alone.
 */
public final class BundleProblems {

    private static final String SCR = "org.osgi.service.component.runtime.ServiceComponentRuntime";
    /** ComponentConfigurationDTO.FAILED_ACTIVATION (DS 1.4). */
    private static final int FAILED_ACTIVATION = 16;

    private final Map<String, String> known = new ConcurrentHashMap<>();

    /**
     * Null if the bundle is active (or a fragment, or stopping/starting on purpose); otherwise the line saying why it
     * is not, e.g. {@code bundle test.unresolvable 1.0.0 (file:/deploy/x.jar) does not resolve: Unable to resolve ...}.
     */
    public String whyNotActive(Bundle b) {
        if (b.getBundleId() == 0 || b.getState() == Bundle.ACTIVE || b.getState() == Bundle.UNINSTALLED
                || b.getState() == Bundle.STARTING || b.getState() == Bundle.STOPPING) return null;
        if (b.getHeaders().get(Constants.FRAGMENT_HOST) != null) return null;
        String key = b.getBundleId() + "@" + b.getLastModified();
        String cached = known.get(key);
        if (cached != null) return cached.isEmpty() ? null : cached; // "": started once; stopped since on purpose (lab shell)
        boolean wasInstalled = b.getState() == Bundle.INSTALLED;
        try {
            b.start();
            known.put(key, "");
            return null; // it starts now (e.g. a missing dependency arrived)
        } catch (BundleException | IllegalStateException | SecurityException e) {
            String why = "bundle " + b.getSymbolicName() + " " + b.getVersion() + " (" + b.getLocation() + ") "
                    + (wasInstalled && b.getState() == Bundle.INSTALLED ? "does not resolve: " : "did not start: ") + reason(e);
            known.put(key, why);
            return why;
        }
    }

    /** The failures of every bundle of the framework that is not active (the system bundle and fragments aside). */
    public List<String> inactiveBundles(BundleContext context) {
        List<String> out = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            String why = whyNotActive(b);
            if (why != null) out.add(why);
        }
        return out;
    }

    /** The message with its causes, on one line (Felix wraps an activator's exception). */
    static String reason(Throwable e) {
        StringBuilder sb = new StringBuilder(oneLine(e.getMessage() == null ? e.toString() : e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            sb.append(": ").append(c.getClass().getSimpleName()).append(c.getMessage() == null ? "" : ": " + oneLine(c.getMessage()));
        }
        return sb.toString();
    }

    private static String oneLine(String s) {
        return s.replaceAll("\\s*\\R\\s*", " ").trim();
    }

    /**
     * An Analysis service whose object could not be made: SCR's recorded activation failure of the bundle's component
     * (read through reflection: in the launcher this class sits on the class path, which cannot see the SCR API bundle).
     */
    public static String componentFailure(BundleContext context, ServiceReference<?> ref) {
        Bundle b = ref.getBundle();
        String head = "bundle " + (b == null ? "?" : b.getSymbolicName() + " " + b.getVersion()) + ": its analysis component failed to activate";
        String failure = b == null ? null : scrFailure(context, b, ref.getProperty("component.name"));
        return head + (failure == null ? " (its constructor or @Activate method threw; see the log)" : ": " + failure);
    }

    private static String scrFailure(BundleContext context, Bundle b, Object componentName) {
        ServiceReference<?> scrRef;
        try {
            // getAll: from the launcher's class path the system bundle cannot see SCR's API package, which a plain lookup requires
            ServiceReference<?>[] refs = context.getAllServiceReferences(SCR, null);
            if (refs == null) return null;
            scrRef = refs[0];
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            return null;
        }
        Object scr = context.getService(scrRef);
        try {
            Class<?> api = null;
            for (Class<?> c = scr.getClass(); c != null && api == null; c = c.getSuperclass()) {
                for (Class<?> i : c.getInterfaces()) if (i.getName().equals(SCR)) api = i;
            }
            if (api == null) return null;
            Method descriptions = api.getMethod("getComponentDescriptionDTOs", Bundle[].class);
            Collection<?> descs = (Collection<?>) descriptions.invoke(scr, (Object) new Bundle[] {b});
            for (Object d : descs) {
                Object name = d.getClass().getField("name").get(d);
                if (componentName != null && !componentName.equals(name)) continue;
                Method configurations = api.getMethod("getComponentConfigurationDTOs", d.getClass());
                for (Object conf : (Collection<?>) configurations.invoke(scr, d)) {
                    Field state = conf.getClass().getField("state");
                    if (state.getInt(conf) != FAILED_ACTIVATION) continue;
                    Object failure = conf.getClass().getField("failure").get(conf);
                    String first = failure == null ? "" : failure.toString().lines().findFirst().orElse("");
                    return "component " + name + ": " + first;
                }
            }
            return null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // an SCR without DS 1.4's failure field: the generic message stands
        } finally {
            try {
                context.ungetService(scrRef);
            } catch (IllegalStateException ignored) {
                // framework stopping
            }
        }
    }
}
