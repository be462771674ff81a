package org.refusallab.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Headless Chromium driven through the DevTools protocol (a WebSocket, with the JDK's own client): navigate, wait,
 * evaluate JavaScript, collect console errors and take screenshots. The executable is -Dchromium.path, $CHROMIUM,
 * or /usr/bin/chromium (Debian: apt-get install -y chromium).
 */
final class Chromium implements AutoCloseable {

    private final ObjectMapper json = new ObjectMapper();
    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    /** Every event received (method + params), in order. */
    final List<JsonNode> events = new CopyOnWriteArrayList<>();

    static final String LOOKED_FOR = "-Dchromium.path, $CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser, /usr/bin/google-chrome";

    /** The configured executable (-Dchromium.path, $CHROMIUM) or the first installed one; null if there is none. */
    static Path findExecutable() {
        String configured = System.getProperty("chromium.path", System.getenv("CHROMIUM"));
        for (String c : configured != null ? List.of(configured) : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (Files.isExecutable(Path.of(c))) return Path.of(c);
        }
        return null;
    }

    static Path executable() {
        Path p = findExecutable();
        if (p == null) throw new IllegalStateException("no Chromium found (looked for " + LOOKED_FOR
                + "): install it with 'apt-get install -y chromium' or pass -Dchromium.path=...");
        return p;
    }

    Chromium(Path workDir) throws Exception {
        profile = Files.createTempDirectory(workDir, "chromium-profile");
        Path log = workDir.resolve("chromium.log");
        process = new ProcessBuilder(executable().toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--allow-file-access-from-files",
                "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir=" + profile,
                "--window-size=1280,900", "about:blank")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Path portFile = profile.resolve("DevToolsActivePort");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(portFile) || Files.readAllLines(portFile).size() < 2) {
            if (!process.isAlive()) throw new IllegalStateException("chromium exited: " + Files.readString(log));
            if (System.nanoTime() > deadline) throw new IllegalStateException("chromium did not open its DevTools port: " + Files.readString(log));
            Thread.sleep(50);
        }
        int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
        HttpClient http = HttpClient.newHttpClient();
        JsonNode targets = json.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        String ws = null;
        for (JsonNode t : targets) if ("page".equals(t.path("type").asText())) ws = t.get("webSocketDebuggerUrl").asText();
        if (ws == null) throw new IllegalStateException("no page target in " + targets);
        socket = http.newWebSocketBuilder().buildAsync(URI.create(ws), new Listener()).get(10, TimeUnit.SECONDS);
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    JsonNode msg = json.readTree(partial.toString());
                    if (msg.has("id")) {
                        CompletableFuture<JsonNode> f = pending.remove(msg.get("id").asInt());
                        if (f != null) {
                            if (msg.has("error")) f.completeExceptionally(new IllegalStateException("DevTools error: " + msg.get("error")));
                            else f.complete(msg.get("result"));
                        }
                    } else {
                        events.add(msg);
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }
    }

    JsonNode send(String method, Map<String, ?> params) throws Exception {
        int id = ids.incrementAndGet();
        ObjectNode msg = json.createObjectNode();
        msg.put("id", id);
        msg.put("method", method);
        msg.set("params", json.valueToTree(params));
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        pending.put(id, f);
        socket.sendText(json.writeValueAsString(msg), true).get(10, TimeUnit.SECONDS);
        return f.get(30, TimeUnit.SECONDS);
    }

    /** Evaluates an expression in the page and returns its value (as JSON). */
    JsonNode eval(String expression) throws Exception {
        JsonNode r = send("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true, "awaitPromise", true));
        if (r.has("exceptionDetails")) throw new IllegalStateException("script failed: " + r.get("exceptionDetails"));
        return r.get("result").get("value");
    }

    /** Navigates and waits for the load event. */
    void open(URI url, Duration timeout) throws Exception {
        int seen = events.size();
        send("Page.navigate", Map.of("url", url.toString()));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (int i = seen; i < events.size(); i++) {
                if ("Page.loadEventFired".equals(events.get(i).path("method").asText())) return;
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("page did not load in " + timeout + ": " + url);
    }

    /** A PNG of the whole page (the viewport is stretched to the page's height first). */
    byte[] screenshot(int width) throws Exception {
        send("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", 900, "deviceScaleFactor", 1, "mobile", false));
        int height = eval("Math.ceil(document.documentElement.scrollHeight)").asInt();
        send("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", Math.min(height, 16000), "deviceScaleFactor", 1, "mobile", false));
        Thread.sleep(200); // let charts react to the resize
        String data = send("Page.captureScreenshot", Map.of("format", "png")).get("data").asText();
        return java.util.Base64.getDecoder().decode(data);
    }

    @Override
    public void close() throws Exception {
        try {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        } catch (RuntimeException ignored) {
            // already closed
        }
        // Chromium's helpers (renderer, GPU, crashpad) outlive a killed browser process for a moment and keep
        // writing to the profile: stop them all before deleting it (a CI run once failed with DirectoryNotEmpty).
        List<ProcessHandle> helpers = process.descendants().toList();
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly();
        for (ProcessHandle helper : helpers) {
            helper.destroy();
            try {
                helper.onExit().get(5, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                helper.destroyForcibly();
            }
        }
        for (int attempt = 1; ; attempt++) {
            try {
                SitePublisher.deleteTree(profile);
                return;
            } catch (java.io.IOException e) {
                if (attempt == 10) throw e;
                Thread.sleep(200);
            }
        }
    }
}
