package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * Node-wise rescaling of a network of layers ({@link LayerNet}) and its unbalanced initialization: {@link Rescaling}
 * for convolutions. A node of a convolution is one channel at one position, and all positions of a channel share the
 * channel's filter, so the rescaling that keeps the weights shared rescales a whole channel (docs/conv-geometry.md):
 * the channel's filter W[ch, :, :, :] and bias b[ch] ×c, every weight reading the channel in the next layer with
 * parameters ×1/c (a convolution's W[:, ch, :, :]; a dense layer's columns of the channel's positions, CHW order).
 * Pooling between the two keeps channels apart and commutes with a positive scale (average: linear; max: max(c·x) =
 * c·max(x)), and ReLU(c·z) = c·ReLU(z), so the network function and every φ_p are unchanged. A hidden dense layer's
 * channels are its units, as in {@link Rescaling}.
 *
 * <p>Since the groups became one model of unit ties, this class is a thin face of {@link RescalingGroups} for a
 * {@link LayerNet}, which also rescales residual networks (the two ends of an identity skip together). Channels are
 * addressed by (k, ch): k the flat index of a hidden layer behind a ReLU ({@link #hiddenLayers}; on a network without
 * residual blocks its index in {@link LayerNet#layers()}), ch its filter or unit, with every unit tied to it. The
 * unbalanced initialization picks channels exactly as {@link Rescaling#unbalance} picks units (same options, same
 * draws in the same order), so on a network of dense layers only it gives the factors of the equivalent fully connected network ({@code LayerNet.dense}).
 */
public final class ChannelRescaling {
  private ChannelRescaling() {}

  /** The flat indices ({@link RescalingGroups}) of the hidden layers that start a rescaling group per channel. */
  public static int[] hiddenLayers(LayerNet net) {
    return hiddenLayers(net.layers());
  }

  /** {@link #hiddenLayers(LayerNet)} of a list of layers. */
  public static int[] hiddenLayers(List<Layer> ls) {
    return RescalingGroups.of(ls).hidden();
  }

  /** The channels of a layer with parameters: a convolution's filters, a dense layer's units. */
  public static int channels(Layer l) {
    return RescalingGroups.channels(l);
  }

  /**
   * The name in model files and messages of the layer at flat index k: {@code layers.i} with its kind, i counting the
   * layers with parameters only (as the safetensors names do), {@code layers.i.f.j} inside a residual block.
   */
  static String name(LayerNet net, int k) {
    return RescalingGroups.of(net.layers()).name(k);
  }

  /** The number of layers with parameters before layer k: its index i in {@code layers.i.weight}. */
  public static int paramIndex(LayerNet net, int k) {
    int i = 0;
    for (int j = 0; j < k; j++) {
      i += net.layers().get(j).paramSize() > 0 ? 1 : 0;
    }
    return i;
  }

  /**
   * Rescales group (k, ch) by {@code c} in place: channel ch of the hidden layer at flat index k with every unit tied
   * to it ({@link RescalingGroups}).
   */
  public static void scaleChannel(LayerNet net, int k, int ch, double c) {
    RescalingGroups.of(net.layers()).scale(net.params().buffer(), k, ch, c);
  }

  /** One factor per group, {@code f[k][ch]} for the hidden layers' flat indices k (other rows ignored). */
  public static void scaleAll(LayerNet net, double[][] f) {
    RescalingGroups.of(net.layers()).scaleAll(net.params().buffer(), f);
  }

  /** Refuses a flat index that is not a family, a channel out of range, or a factor not positive and finite. */
  public static void check(List<Layer> layers, int k, int ch, double c) {
    RescalingGroups.check(RescalingGroups.of(layers).family(k), ch, c);
  }

  /**
   * Incoming parameters of group (k, ch) ×in, the weights reading it ×out, in a buffer of the parameter layout (the
   * parameters, or an optimizer state's buffer); each product rounded once.
   */
  public static void scaleInOut(List<Layer> ls, FloatBuffer b, int k, int ch, double in, double out) {
    RescalingGroups.scaleInOut(RescalingGroups.of(ls).family(k), b, ch, in, out);
  }

  /** The parameter ranges of group (k, ch) ({@link RescalingGroups#forEachRange}). */
  public static void forEachRange(List<Layer> ls, int k, int ch, Layer.Ranges incoming, Layer.Ranges outgoing) {
    RescalingGroups.forEachRange(RescalingGroups.of(ls).family(k), ch, incoming, outgoing);
  }

  /**
   * The unbalanced initialization on channels, in place: {@link Rescaling#unbalance} with channels for units. {@link
   * Unbalance.PerLayer}: for each hidden layer k in order, round(fraction·channels) picks, each {@code rng.nextInt}
   * (the channel) then {@code rng.nextGaussian()}; {@link Unbalance.Total}: {@code count} picks over all channels of
   * all hidden layers. Factor s = 10·c or 10^c, c = exp(μ + σ·z). Not checked; see {@link #unbalanceChecked}.
   *
   * @return the per-channel products of the factors, {@code f[k][ch]} for hidden layers k (other rows null)
   * @throws Rescaling.Refused if a factor or a channel's product is not a positive finite double (nothing applied)
   */
  public static double[][] unbalance(LayerNet net, Unbalance opts, Rng rng) {
    return RescalingGroups.of(net.layers()).unbalance(net.params().buffer(), opts, rng, RescalingGroups.CHANNELS, 0);
  }

  /**
   * {@link #unbalance}, then {@link #verify} against the network on entry on {@link Rescaling#CHECK_ROWS} random rows
   * from {@code rng.split("check")} (taken first; it does not advance {@code rng}).
   *
   * @throws Rescaling.Refused if a factor cannot be formed, a weight or bias overflows or underflows, or the outputs
   *     differ beyond the tolerance; {@code net} is then left as it was on entry
   */
  public static double[][] unbalanceChecked(LayerNet net, Unbalance opts, Rng rng) {
    Rng inputs = rng.split("check");
    LayerNet original = net.copy();
    double[][] f = unbalance(net, opts, rng);
    Rescaling.Verification v = verify(original, net, f,
        Rescaling.randomInputs(net.inputs(), Rescaling.CHECK_ROWS, inputs), Rescaling.CHECK_ROWS);
    if (!v.ok()) {
      net.params().copyFrom(original.params());
      throw RescalingCheck.refused(opts, v);
    }
    return f;
  }

  /**
   * {@link Rescaling#verify} for networks of layers: every weight and bias of {@code rescaled} finite (else an overflow)
   * and, where the original's is non-zero, a normal float (else an underflow); and the outputs on the first B rows of
   * {@code batch} within {@link Rescaling#RELATIVE_TOLERANCE}·m + ulp(m) of the original's, m = max |f_w(x)|. The
   * verification's layer and unit are the layer index k and channel of the largest factor.
   */
  public static Rescaling.Verification verify(LayerNet original, LayerNet rescaled, double[][] f, float[] batch,
      int B) {
    RescalingCheck.sameShape(original.layout(), rescaled.layout());
    int[] widths = new int[f.length]; // the rows of the hidden layers, null elsewhere
    for (int k = 0; k < f.length; k++) {
      widths[k] = f[k] == null ? 0 : f[k].length;
    }
    RescalingCheck chk = new RescalingCheck();
    chk.largest(f, widths);
    String largest = chk.unit < 0 ? "no hidden channel" : chk.largestAt(name(original, chk.layer) + ", channel "
        + chk.unit);
    Tensor a = original.params();
    Tensor b = rescaled.params();
    for (int i = 0; i < a.size(); i++) {
      float w = a.get(i);
      float r = b.get(i);
      if (chk.count(w, r)) {
        chk.first("parameter " + i + " of " + layerOf(original, i), w, r, "");
      }
    }
    return chk.verification(outputs(original, batch, B), outputs(rescaled, batch, B), B, largest);
  }

  /** The logits (B × outputs) of the first B rows of {@code batch}, without dropout. */
  public static float[] outputs(LayerNet net, float[] batch, int B) {
    io.github.pathsgd.core.nn.Network.Workspace ws = net.workspace(B);
    ws.input().copyFrom(batch, 0, 0, B * net.inputs());
    int[] labels = new int[B];
    net.evaluate(ws, B, labels, 0);
    return ws.logits().toArray(0, B * net.outputs());
  }

  private static String layerOf(LayerNet net, int i) {
    List<Layer> ls = net.layers();
    for (int k = 0; k < ls.size(); k++) {
      Layer l = ls.get(k);
      if (i >= l.paramOffset() && i < l.paramOffset() + l.paramSize()) {
        return "layers." + paramIndex(net, k);
      }
    }
    return "no layer";
  }
}
