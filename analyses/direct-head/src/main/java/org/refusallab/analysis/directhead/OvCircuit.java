package org.refusallab.analysis.directhead;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.QRDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.refusallab.api.model.Tensor;

/**
 * A head's OV circuit M = W_V[kv] W_O[h] (d_model x d_model, rank <= d_head) in singular directions
 * M = sum_i s_i U_i V_i^T: input direction U_i (ln1-normalised residual at the attended positions) is written as
 * s_i V_i, so it moves the refusal component by gain_i = s_i (V_i . r). The head's output along r is exactly
 * sum_i (xbar . U_i) gain_i with xbar = sum_k pattern[last, k] ln1(x_k); xbar . U_i is read from hook_z (z = xbar W_V)
 * as z R^-1 U'_i with W_V = Q R (thin QR) and R W_O = U' S V^T, so no residual-space input is needed.
 */
final class OvCircuit {

    final double[] singular;   // s_i, descending
    final double[] gain;       // s_i (V_i . r)
    final double[][] input;    // U_i in residual space [i][d_model]
    private final RealMatrix zToCoefficient;  // dh x dh: z -> (xbar . U_i)_i

    OvCircuit(Tensor wv, int kv, Tensor wo, int head, float[] unit) {
        int d = wv.dim(1), dh = wv.dim(2);
        double[][] v = new double[d][dh], o = new double[dh][d];
        for (int a = 0; a < d; a++) for (int b = 0; b < dh; b++) v[a][b] = wv.get(kv, a, b);
        for (int a = 0; a < dh; a++) for (int b = 0; b < d; b++) o[a][b] = wo.get(head, a, b);
        QRDecomposition qr = new QRDecomposition(new Array2DRowRealMatrix(v, false));
        RealMatrix q = qr.getQ().getSubMatrix(0, d - 1, 0, dh - 1), r = qr.getR().getSubMatrix(0, dh - 1, 0, dh - 1);
        SingularValueDecomposition svd = new SingularValueDecomposition(r.multiply(new Array2DRowRealMatrix(o, false)));
        RealMatrix u = svd.getU(), vt = svd.getVT();   // u: dh x k, vt: k x d (k = dh for a full-rank head)
        int k = svd.getSingularValues().length;
        singular = svd.getSingularValues();
        gain = new double[k];
        ArrayRealVector ru = new ArrayRealVector(toDouble(unit));
        for (int i = 0; i < k; i++) gain[i] = singular[i] * vt.getRowVector(i).dotProduct(ru);
        input = q.multiply(u).transpose().getData();
        // xbar Q = z R^-1, so (xbar . U_i) = (z R^-1 U')_i: the matrix R^-1 U'
        zToCoefficient = new LUDecomposition(r).getSolver().solve(u);
    }

    /** xbar . U_i for every singular direction, from the head's hook_z at the last position. */
    double[] coefficients(float[] z) {
        return zToCoefficient.preMultiply(toDouble(z));
    }

    static double[] toDouble(float[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i];
        return out;
    }
}
