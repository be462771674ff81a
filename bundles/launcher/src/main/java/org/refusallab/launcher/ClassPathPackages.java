package org.refusallab.launcher;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The packages of the launcher's class path, and which of them the system bundle exports to the bundles in the
 * framework ({@code org.osgi.framework.system.packages.extra}): the API packages and the libraries an analysis may
 * declare ({@link #FOR_BUNDLES}), one copy of each. The engine, ND4J, the checkpoint and tokenizer code and the
 * platform stay private to the launcher: a bundle that imports them does not resolve.
 *
 * <p>Computed at start-up rather than kept by hand, because a hand-kept list breaks as soon as a bundle imports one
 * more package. Jars that are bundles contribute their Export-Package (with versions, so version ranges resolve);
 * plain jars contribute every package holding a class, unversioned. Manifest Class-Path entries are followed (that
 * is how {@code java -jar} and surefire's booter jar name the real class path). The framework's own jar and
 * {@code org.osgi.*} packages are left out (the framework exports its own), except Configuration Admin's API, which
 * the launcher shares with the configadmin bundle.
 */
public final class ClassPathPackages {

    private ClassPathPackages() { }

    /**
     * What bundles may import from the class path: the API, Jackson and slf4j (libraries the study bundle uses and an
     * analysis may declare), Configuration Admin's API (shared with the configadmin bundle), and the exit guard, which
     * the weaving hook makes every analysis bundle import dynamically in place of System.exit / Runtime.halt. Prefixes
     * of package names.
     */
    public static final List<String> FOR_BUNDLES = List.of("org.refusallab.api.", "com.fasterxml.jackson.", "org.slf4j", "org.osgi.service.cm",
            "org.refusallab.platform.exitguard");

    /** The class-path packages the system bundle exports to bundles: those under {@link #FOR_BUNDLES}. */
    public static Map<String, String> forBundles(Map<String, String> classPath) {
        Map<String, String> out = new LinkedHashMap<>();
        classPath.forEach((pkg, version) -> {
            if (FOR_BUNDLES.stream().anyMatch(pkg::startsWith)) out.put(pkg, version);
        });
        return out;
    }

    /** Packages of the running JVM's class path (java.class.path). */
    public static Map<String, String> ofJvmClassPath() {
        List<Path> entries = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.isBlank()) entries.add(Path.of(e));
        }
        return of(entries);
    }

    /** Package name to version ("" when unversioned), in class-path order; the first jar to name a package wins. */
    public static Map<String, String> of(List<Path> classPath) {
        Map<String, String> packages = new LinkedHashMap<>();
        Set<Path> seen = new LinkedHashSet<>();
        Deque<Path> todo = new ArrayDeque<>(classPath);
        while (!todo.isEmpty()) {
            Path p = todo.removeFirst().toAbsolutePath().normalize();
            if (!seen.add(p) || !Files.exists(p)) continue;
            try {
                if (Files.isDirectory(p)) {
                    scanDirectory(p, packages);
                } else {
                    scanJar(p, packages, todo);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read class-path entry " + p + ": " + e.getMessage(), e);
            }
        }
        packages.keySet().removeIf(pkg -> pkg.startsWith("java.") || (pkg.startsWith("org.osgi.") && !pkg.startsWith("org.osgi.service.cm")));
        return packages;
    }

    /** The header value: {@code a.b;version="1.0.0",c.d,...}. */
    public static String header(Map<String, String> packages) {
        StringBuilder sb = new StringBuilder();
        packages.forEach((pkg, version) -> {
            if (sb.length() > 0) sb.append(',');
            sb.append(pkg);
            if (!version.isEmpty()) sb.append(";version=\"").append(version).append('"');
        });
        return sb.toString();
    }

    private static void scanJar(Path jar, Map<String, String> packages, Deque<Path> todo) throws IOException {
        try (JarFile jf = new JarFile(jar.toFile())) {
            if (jf.getEntry("org/apache/felix/framework/Felix.class") != null) return; // the framework exports its own
            Manifest mf = jf.getManifest();
            Attributes main = mf == null ? new Attributes() : mf.getMainAttributes();
            String classPath = main.getValue("Class-Path");
            if (classPath != null) {
                for (String ref : classPath.trim().split("\\s+")) {
                    if (ref.isEmpty()) continue;
                    URI uri = jar.getParent().toUri().resolve(ref);
                    if ("file".equals(uri.getScheme())) todo.addLast(Path.of(uri));
                }
            }
            String exports = main.getValue("Export-Package");
            if (main.getValue("Bundle-SymbolicName") != null && exports != null) {
                for (Map.Entry<String, String> e : parseExportPackage(exports).entrySet()) packages.putIfAbsent(e.getKey(), e.getValue());
                return;
            }
            Enumeration<JarEntry> entries = jf.entries();
            while (entries.hasMoreElements()) {
                String name = entries.nextElement().getName();
                if (name.endsWith(".class") && !name.startsWith("META-INF/")) addPackageOf(name, packages);
            }
        }
    }

    private static void scanDirectory(Path dir, Map<String, String> packages) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.filter(f -> f.toString().endsWith(".class"))
                    .map(f -> dir.relativize(f).toString().replace(File.separatorChar, '/'))
                    .filter(n -> !n.startsWith("META-INF/"))
                    .forEach(n -> addPackageOf(n, packages));
        }
    }

    private static void addPackageOf(String classEntry, Map<String, String> packages) {
        int slash = classEntry.lastIndexOf('/');
        if (slash > 0) packages.putIfAbsent(classEntry.substring(0, slash).replace('/', '.'), "");
    }

    /**
     * Package names and versions of an Export-Package header. Clauses are separated by commas outside quotes; a
     * clause is {@code pkg[;pkg...][;attr=value|;directive:=value...]}; directives (uses:=, ...) are dropped.
     */
    static Map<String, String> parseExportPackage(String header) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String clause : splitOutsideQuotes(header, ',')) {
            List<String> names = new ArrayList<>();
            String version = "";
            for (String part : splitOutsideQuotes(clause, ';')) {
                part = part.trim();
                if (part.isEmpty()) continue;
                int eq = part.indexOf('=');
                if (eq < 0) {
                    names.add(part);
                } else if (part.charAt(eq - 1) != ':' && part.substring(0, eq).trim().equals("version")) {
                    version = part.substring(eq + 1).trim().replace("\"", "");
                }
            }
            for (String n : names) out.putIfAbsent(n, version);
        }
        return out;
    }

    private static List<String> splitOutsideQuotes(String s, char sep) {
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') quoted = !quoted;
            if (c == sep && !quoted) {
                parts.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        parts.add(cur.toString());
        return parts;
    }
}
