package org.refusallab.api.model;

/** What was loaded: shapes from config.json and how the forward runs. */
public record ModelInfo(String checkpoint, String modelType, int nLayers, int nHeads, int nKvHeads, int dModel,
                        int dHead, int dMlp, int vocabSize, String storedDtype, String computeDtype, String gelu,
                        double ropeTheta, double rmsNormEps) {
}
