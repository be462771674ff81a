package org.refusallab.api.analysis;

import org.osgi.annotation.versioning.ProviderType;

/** A console progress bar for long work. */
@ProviderType
public interface Progress {

    /** Starts a task of {@code total} steps. */
    void start(String task, long total);

    void step(long n);

    void done();

    Progress NONE = new Progress() {
        public void start(String task, long total) { }
        public void step(long n) { }
        public void done() { }
    };
}
