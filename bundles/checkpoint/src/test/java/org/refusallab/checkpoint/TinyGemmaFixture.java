package org.refusallab.checkpoint;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** The transformers-saved tiny Gemma checkpoint in src/test/resources. */
final class TinyGemmaFixture {

    private TinyGemmaFixture() {
    }

    static Path checkpointDir() {
        try {
            return Path.of(TinyGemmaFixture.class.getResource("/fixtures/tiny-gemma/checkpoint/config.json").toURI())
                    .getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
