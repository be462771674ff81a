package org.refusallab.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.refusallab.checkpoint.SafetensorsFile;

/** The transformers-computed reference of a fixture folder copied into test resources. */
final class FixtureReference {

    final Path dir;
    final JsonNode json;
    final SafetensorsFile tensors;

    FixtureReference(String name) throws IOException, URISyntaxException {
        this.dir = Path.of(FixtureReference.class.getResource("/fixtures/" + name + "/reference.json").toURI()).getParent();
        this.json = new ObjectMapper().readTree(dir.resolve("reference.json").toFile());
        this.tensors = SafetensorsFile.open(dir.resolve("reference.safetensors"));
    }

    Path checkpoint() {
        return dir.resolve("checkpoint");
    }

    INDArray tensor(String name) {
        return tensors.read(name);
    }

    List<String> hooksOf(String caseName) {
        List<String> hooks = new ArrayList<>();
        for (JsonNode n : json.get("tensor_names")) {
            String s = n.asText();
            if (s.startsWith(caseName + ".")) hooks.add(s.substring(caseName.length() + 1));
        }
        return hooks;
    }

    static List<int[]> rows(JsonNode matrix) {
        List<int[]> rows = new ArrayList<>();
        for (JsonNode r : matrix) {
            int[] row = new int[r.size()];
            for (int i = 0; i < row.length; i++) row[i] = r.get(i).asInt();
            rows.add(row);
        }
        return rows;
    }
}
