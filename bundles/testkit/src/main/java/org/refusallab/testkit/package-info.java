@Export
@Version("1.0.0")
package org.refusallab.testkit;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
