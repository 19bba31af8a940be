package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.ParamSlice;
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
 * <p>Channels are addressed by (k, ch): k the index of a hidden layer with parameters in {@link LayerNet#layers()}
 * ({@link #hiddenLayers}), ch its filter or unit. The unbalanced initialization picks channels exactly as {@link
 * Rescaling#unbalance} picks units (same options, same draws in the same order), so on a network of dense layers only
 * it gives the factors of the equivalent {@code Mlp}.
 */
public final class ChannelRescaling {
  private ChannelRescaling() {}

  /** The indices in {@code net.layers()} of the hidden layers with parameters (conv or dense followed by ReLU). */
  public static int[] hiddenLayers(LayerNet net) {
    return hiddenLayers(net.layers());
  }

  /** {@link #hiddenLayers(LayerNet)} of a list of layers. */
  public static int[] hiddenLayers(List<Layer> ls) {
    return java.util.stream.IntStream.range(0, ls.size())
        .filter(k -> ls.get(k).relu() && ls.get(k).paramSize() > 0).toArray();
  }

  /** The channels of a layer with parameters: a convolution's filters, a dense layer's units. */
  public static int channels(Layer l) {
    if (l.paramSlices().isEmpty()) {
      throw new IllegalArgumentException(l.kind() + " has no channels to rescale");
    }
    return l.paramSlices().get(0).rows();
  }

  /**
   * The layer's name in model files and messages: {@code layers.i} with its kind, i counting the layers with
   * parameters only (as the safetensors names do).
   */
  static String name(LayerNet net, int k) {
    return "layers." + paramIndex(net, k) + " (" + net.layers().get(k).kind() + ")";
  }

  /** The number of layers with parameters before layer k: its index i in {@code layers.i.weight}. */
  public static int paramIndex(LayerNet net, int k) {
    int i = 0;
    for (int j = 0; j < k; j++) {
      i += net.layers().get(j).paramSize() > 0 ? 1 : 0;
    }
    return i;
  }

  /** Rescales channel {@code ch} of hidden layer {@code k} by {@code c} in place; see the class comment. */
  public static void scaleChannel(LayerNet net, int k, int ch, double c) {
    check(net.layers(), k, ch, c);
    scaleInOut(net.layers(), net.params().buffer(), k, ch, c, 1.0 / c);
  }

  /** One factor per channel, {@code f[k][ch]} for the hidden layers k ({@link #hiddenLayers}; other rows ignored). */
  public static void scaleAll(LayerNet net, double[][] f) {
    for (int k : hiddenLayers(net)) {
      for (int ch = 0; ch < f[k].length; ch++) {
        scaleChannel(net, k, ch, f[k][ch]);
      }
    }
  }

  /** Refuses a layer that is not hidden, a channel out of range, or a factor that is not positive and finite. */
  public static void check(List<Layer> layers, int k, int ch, double c) {
    int[] hidden = hiddenLayers(layers);
    if (java.util.Arrays.stream(hidden).noneMatch(h -> h == k)) {
      throw new IllegalArgumentException("layer " + k + " is not a hidden conv or dense layer (hidden: "
          + java.util.Arrays.toString(hidden) + ")");
    }
    int n = channels(layers.get(k));
    if (ch < 0 || ch >= n) {
      throw new IllegalArgumentException("channel " + ch + " outside layer " + k + " of " + n + " channels");
    }
    RescalingCheck.checkFactor(c);
    forEachRange(layers, k, ch, (from, len) -> {}, (from, len) -> {}); // a layer that cannot take it refuses now

  }

  /**
   * Incoming filter and bias of the channel ×in, the weights reading it ×out, in a buffer of the parameter layout
   * (the parameters, or an optimizer state's buffer); each product rounded once.
   */
  public static void scaleInOut(List<Layer> ls, FloatBuffer b, int k, int ch, double in, double out) {
    forEachRange(ls, k, ch, (from, n) -> scale(b, from, n, in), (from, n) -> scale(b, from, n, out));
  }

  /**
   * The parameter ranges of channel {@code ch} of hidden layer {@code k}: its incoming edges (row ch of the layer's
   * weight and its bias) to {@code incoming}, the weights of the next layer with parameters that read it (pooling
   * between passes channels through) to {@code outgoing}.
   */
  public static void forEachRange(List<Layer> ls, int k, int ch, Layer.Ranges incoming, Layer.Ranges outgoing) {
    Layer l = ls.get(k);
    for (ParamSlice s : l.paramSlices()) { // row ch of the weight (its fan-in) and of the bias
      int row = s.size() / s.rows();
      incoming.accept(s.offset() + ch * row, row);
    }
    int j = k + 1;
    while (ls.get(j).paramSize() == 0) {
      j++; // pooling: channels pass through
    }
    ls.get(j).inputChannelRanges(ch, channels(l), outgoing);
  }

  private static void scale(FloatBuffer b, int from, int n, double c) {
    for (int i = from; i < from + n; i++) {
      b.put(i, (float) (b.get(i) * c));
    }
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
    int[] hidden = hiddenLayers(net);
    for (int k : hidden) { // a layer whose units cannot be rescaled (one before a residual block) refuses before a draw
      forEachRange(net.layers(), k, 0, (from, len) -> {}, (from, len) -> {});
    }
    double[][] f = new double[net.layers().size()][];
    int total = 0;
    for (int k : hidden) {
      f[k] = new double[channels(net.layers().get(k))];
      java.util.Arrays.fill(f[k], 1.0);
      total += f[k].length;
    }
    List<int[]> picks = new java.util.ArrayList<>(); // {k, ch}
    List<Double> factors = new java.util.ArrayList<>();
    if (opts.density() instanceof Unbalance.PerLayer p) {
      for (int k : hidden) {
        long n = Math.round(p.fraction() * f[k].length);
        for (long j = 0; j < n; j++) {
          int ch = rng.nextInt(f[k].length);
          picks.add(new int[] {k, ch});
          factors.add(draw(net, opts, rng, f, k, ch));
        }
      }
    } else if (total > 0) {
      int count = ((Unbalance.Total) opts.density()).count();
      for (int j = 0; j < count; j++) {
        int idx = rng.nextInt(total);
        int at = 0;
        while (idx >= f[hidden[at]].length) {
          idx -= f[hidden[at]].length;
          at++;
        }
        picks.add(new int[] {hidden[at], idx});
        factors.add(draw(net, opts, rng, f, hidden[at], idx));
      }
    }
    for (int j = 0; j < picks.size(); j++) {
      scaleChannel(net, picks.get(j)[0], picks.get(j)[1], factors.get(j));
    }
    return f;
  }

  private static double draw(LayerNet net, Unbalance opts, Rng rng, double[][] f, int k, int ch) {
    double c = Math.exp(opts.mu() + opts.sigma() * rng.nextGaussian());
    double s = opts.form().factor(c);
    double prod = f[k][ch] * s;
    if (!RescalingCheck.positiveFinite(s) || !RescalingCheck.positiveFinite(prod)) {
      throw new Rescaling.Refused(RescalingCheck.refused(opts) + name(net, k) + ", channel " + ch
          + " gets a factor beyond the double range", k, ch, prod);
    }
    f[k][ch] = prod;
    return s;
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
