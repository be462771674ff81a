package org.refusallab.api.analysis;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParametersTest {

    enum Sign { HARMFUL_MINUS_HARMLESS, HARMLESS_MINUS_HARMFUL }

    @interface Params {
        String PREFIX_ = "p.";

        @Describe("a layer")
        int layer() default 3;

        double threshold() default 0.5;

        boolean on() default true;

        Sign sign() default Sign.HARMFUL_MINUS_HARMLESS;

        String[] prompts() default {"a", "b"};

        String eval_limit() default "x";

        String max$_$tokens() default "y";
    }

    @Test
    void declarationsGiveKeysTypesDefaultsAndDescriptions() {
        Map<String, Parameters.Declaration> d = new java.util.HashMap<>();
        for (var x : Parameters.declarations(Params.class)) d.put(x.key(), x);
        assertEquals(List.of("p.eval.limit", "p.layer", "p.max-tokens", "p.on", "p.prompts", "p.sign", "p.threshold"),
                d.keySet().stream().sorted().toList());
        assertEquals("3", d.get("p.layer").defaultValue());
        assertEquals(int.class, d.get("p.layer").type());
        assertEquals("a layer", d.get("p.layer").description());
        assertEquals("a|b", d.get("p.prompts").defaultValue());
        assertEquals("harmful-minus-harmless", d.get("p.sign").defaultValue());
    }

    @Test
    void valuesAreTypedAndDefaultsFillTheRest() {
        Params p = Parameters.bind("x", Params.class, Map.of("p.layer", " 7 ", "p.sign", "harmless-minus-harmful", "p.prompts", "c| d", "p.on", "FALSE"));
        assertEquals(7, p.layer());
        assertEquals(0.5, p.threshold());
        assertFalse(p.on());
        assertEquals(Sign.HARMLESS_MINUS_HARMFUL, p.sign());
        assertArrayEquals(new String[] {"c", " d"}, p.prompts());
        assertEquals(Params.class, p.annotationType());
    }

    @Test
    void aBadValueNamesTheAnalysisTheKeyAndTheValue() {
        var e = assertThrows(IllegalArgumentException.class, () -> Parameters.bind("logit-lens", Params.class, Map.of("p.layer", "ten")));
        assertEquals("analysis logit-lens: parameter p.layer = 'ten' is not an integer", e.getMessage());
        var s = assertThrows(IllegalArgumentException.class, () -> Parameters.bind("logit-lens", Params.class, Map.of("p.sign", "up")));
        assertEquals("analysis logit-lens: parameter p.sign = 'up' is not one of [harmful-minus-harmless, harmless-minus-harmful]", s.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Parameters.bind("a", Params.class, Map.of("p.on", "yes")));
    }
}
