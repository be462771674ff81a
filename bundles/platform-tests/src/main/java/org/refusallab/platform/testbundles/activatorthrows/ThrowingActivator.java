package org.refusallab.platform.testbundles.activatorthrows;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/** A bundle activator that fails: the bundle cannot start. */
public class ThrowingActivator implements BundleActivator {
    public void start(BundleContext context) {
        throw new IllegalStateException("activator exploded on purpose");
    }

    public void stop(BundleContext context) { }
}
