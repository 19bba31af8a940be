package io.github.pathsgd.djl;

import io.github.pathsgd.core.geometry.ChannelRescaling;
import io.github.pathsgd.core.geometry.ModelNorms;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.geometry.Unbalance;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.nn.NetLayout;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.nn.ParamSlice;
import io.github.pathsgd.core.optim.PathNormalize;
import io.github.pathsgd.core.optim.PathNormalizeState;
import io.github.pathsgd.core.optim.PathSgdOptions;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.model.SafeTensors;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The one place where this module calls pathsgd's core and model modules: a pathsgd network of layers built from the
 * {@code --layers} spec that {@link DjlNetwork} reads off a DJL block, over one flat float32 parameter vector in
 * PyTorch's layouts (a dense weight [out, in], a convolution's [filters, channels, kh, kw], then the bias), and what the
 * module needs of it: the parameter slices, Path-SGD's normalization (κ through the layers' path sweeps, extended
 * range), the path norms, node and channel rescaling and safetensors files. When core's network description changes,
 * only this class follows it.
 */
final class PathsgdGraph {
  private final LayerNet net;
  private final List<ParamSlice> slices = new ArrayList<>();

  /**
   * The network of {@code spec} for inputs of {@code c × h × w} and {@code classes} outputs, parameters zero.
   *
   * @throws IllegalArgumentException as {@link LayerSpec#parse} and {@link LayerSpec#build} refuse
   */
  PathsgdGraph(String spec, int c, int h, int w, int classes) {
    this.net = LayerSpec.parse(spec).build(c, h, w, classes);
    for (Layer l : net.layers()) {
      for (Layer part : l.parts()) {
        slices.addAll(part.paramSlices());
      }
    }
  }

  /** Every parameter tensor in parameter order: its offset in {@link #params()} and its shape. */
  List<int[]> shapes() {
    List<int[]> out = new ArrayList<>();
    for (ParamSlice s : slices) {
      out.add(s.shape());
    }
    return out;
  }

  /** The offsets of {@link #shapes()}'s tensors in {@link #params()}. */
  int[] offsets() {
    return slices.stream().mapToInt(ParamSlice::offset).toArray();
  }

  /** The parameter vector (not a copy). */
  FloatBuffer params() {
    return net.params().buffer();
  }

  /** The parameter count. */
  int size() {
    return net.params().size();
  }

  /** The canonical spec text. */
  String spec() {
    return net.spec().toString();
  }

  /** Path-SGD's normalization u ← u ⊘ κ(θ) with pathsgd's default options for exponent p; state per network. */
  Normalizer normalizer(double p) {
    return new Normalizer(p);
  }

  /** Path-SGD's path normalization of one network's updates, κ recomputed from the parameters at every call. */
  final class Normalizer {
    private final PathNormalize transform;
    private final PathNormalizeState state;
    private final Tensor updates;

    private Normalizer(double p) {
      this.transform = PathNormalize.of(PathSgdOptions.ofP(p));
      // a network of dense layers only has the parameter layout of pathsgd's fully connected network (W_0, b_0, W_1,
      // ...), whose κ is the fast rank-one pass (Kappa, SIMD, the factors' range kept as m·2^e); any other network
      // takes κ through its layers' sweeps (LayerKappa), as pathsgd's own step does for it
      int[] widths = denseWidths();
      this.state = transform.init(widths != null ? NetLayout.dense(widths) : net.layout());
      this.updates = new Tensor(net.params().size());
    }

    /** The buffer to fill with the gradient before {@link #apply}; holds the normalized update after it. */
    FloatBuffer updates() {
      return updates.buffer();
    }

    /** Divides {@link #updates()} by κ of the current {@link #params()} (the floor and range rules of pathsgd). */
    void apply() {
      transform.update(updates, state, net.params());
    }

    /** Coordinates floored or left without update at the last {@link #apply}. */
    long clamped() {
      return state.clamped();
    }
  }

  /** The widths n_0..n_L when every layer is dense, else null (the grammar's {@link LayerSpec#denseWidths}). */
  private int[] denseWidths() {
    List<Layer> ls = net.layers();
    return net.spec().denseWidths(ls.get(0).in(), ls.get(ls.size() - 1).out());
  }

  /** φ_p with biases as edges from a constant-1 unit, as {@code pathsgd norms} computes it (p may be ∞). */
  double phi(double p) {
    return PathNorms.phi(net.layers(), net.params(), p, true);
  }

  /** The six norms of pathsgd's model metrics, in the order of {@link #normNames()}. */
  double[] norms() {
    return ModelNorms.of(net).values();
  }

  /** The metric names of {@link #norms()}. */
  static List<String> normNames() {
    return ModelNorms.NAMES;
  }

  /** The indices (in the network's layer list) of the hidden layers whose channels can be rescaled. */
  int[] hiddenLayers() {
    return ChannelRescaling.hiddenLayers(net);
  }

  /** The channels (filters, or units) of layer k. */
  int channels(int k) {
    return ChannelRescaling.channels(net.layers().get(k));
  }

  /** The number of layers of the network (pooling included): the length of a factor table. */
  int layerCount() {
    return net.layers().size();
  }

  /** Rescales channel ch of hidden layer k by c (incoming ×c, outgoing ×1/c), in place. */
  void scaleChannel(int k, int ch, double c) {
    ChannelRescaling.scaleChannel(net, k, ch, c);
  }

  /** The unbalanced initialization (pathsgd's per-layer density) in place; the factors f[k][ch] (other rows null). */
  double[][] unbalance(double fraction, long seed) {
    return ChannelRescaling.unbalance(net, Unbalance.perLayer(fraction), new Rng(seed));
  }

  /** Writes the network as pathsgd's safetensors (what {@code pathsgd norms} and {@code --init-model} read). */
  void write(Path file, Map<String, String> metadata) {
    SafeTensors.write(net, file, metadata);
  }

  /**
   * Reads a pathsgd safetensors file into the parameter vector; refuses, naming the file, a model whose parameter
   * tensors are not of this network's shapes.
   */
  void read(Path file) throws IOException {
    Network m = SafeTensors.read(file).model();
    List<String> want = new ArrayList<>();
    for (ParamSlice s : slices) {
      want.add(s.name() + "[" + s.shapeText() + "]");
    }
    List<String> got = new ArrayList<>();
    for (Layer l : m.layers()) {
      for (Layer part : l.parts()) {
        for (ParamSlice s : part.paramSlices()) {
          got.add(s.name() + "[" + s.shapeText() + "]");
        }
      }
    }
    if (!want.equals(got)) {
      throw new IllegalArgumentException(file + ": its tensors " + got + " are not the DJL model's " + want
          + " (layers " + spec() + ")");
    }
    net.params().buffer().put(0, m.params().buffer(), 0, m.params().size());
  }

  @Override
  public String toString() {
    return spec() + " " + Arrays.toString(net.inputShape()) + " (" + size() + " parameters)";
  }
}
