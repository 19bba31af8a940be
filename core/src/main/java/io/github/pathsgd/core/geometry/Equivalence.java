package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network.Workspace;
import io.github.pathsgd.core.tensor.Tensor;

/**
 * Checks that two parameterizations compute the same function (w ~ w̃ under node-wise rescaling implies f_w ≡ f_w̃;
 * Neyshabur, Salakhutdinov and Srebro, "Path-SGD", NIPS 2015, §2).
 */
public final class Equivalence {
  private Equivalence() {}

  /**
   * The largest |f_a(x) − f_b(x)| over all outputs (logits) of the first B rows of {@code batch} (row-major, B × n_0),
   * evaluated without dropout. Allocates two workspaces.
   */
  public static double maxOutputDifference(LayerNet a, LayerNet b, float[] batch, int B) {
    if (!a.layout().equals(b.layout())) {
      throw new IllegalArgumentException("networks of different shapes: " + a.layout() + " vs " + b.layout());
    }
    int n0 = a.chain().inputs();
    if (B <= 0 || batch.length < B * n0) {
      throw new IllegalArgumentException("batch of " + batch.length + " floats does not hold " + B + " rows of " + n0);
    }
    float[] fa = outputs(a, batch, B);
    float[] fb = outputs(b, batch, B);
    double m = 0;
    for (int i = 0; i < fa.length; i++) {
      m = Math.max(m, Math.abs((double) fa[i] - fb[i]));
    }
    return m;
  }

  /** The logits (B × n_L, row-major) of the first B rows of {@code batch}, without dropout. */
  public static float[] outputs(LayerNet net, float[] batch, int B) {
    Workspace ws = net.workspace(B);
    int n0 = net.chain().inputs();
    ws.input().copyFrom(batch, 0, 0, B * n0);
    Tensor out = net.forward(ws, B, Dropout.NONE, null);
    return out.toArray(0, B * net.chain().outputs());
  }
}
