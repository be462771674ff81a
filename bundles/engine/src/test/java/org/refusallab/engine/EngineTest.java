package org.refusallab.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EngineTest {

    @Test
    void matmulThreadsDefaultToTheCoresAndFollowTheVariable() {
        assertEquals(16, Engine.matmulThreads(null, 16));
        assertEquals(16, Engine.matmulThreads("  ", 16));
        assertEquals(3, Engine.matmulThreads(" 3 ", 16));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-2", "two", "1.5"})
    void aBadThreadCountIsRejectedNamingTheVariable(String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Engine.matmulThreads(value, 4));
        assertEquals("REFUSAL_LAB_BLAS_THREADS must be a positive integer, got '" + value + "'", e.getMessage());
    }
}
