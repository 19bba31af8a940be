package io.github.pathsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * pathsgd's description of a DJL model: the {@code --layers} spec of its block, its input shape and classes, and its
 * parameters in pathsgd's order, so that pathsgd's geometry (κ, path norms, rescaling, model files) applies to it.
 *
 * <p>The block is a {@link SequentialBlock} (nested ones are read as one sequence) of
 *
 * <pre>
 *   Conv2d         (bias, dilation 1, one group, equal strides and paddings on both axes), then ReLU
 *   Linear         (bias), then ReLU; the last block is a Linear without ReLU: the logits, one per class
 *   ReLU           Activation.reluBlock()
 *   pooling        PathSgdBlocks.maxPool2d / avgPool2d, on an image (after a layer's ReLU)
 *   batchFlatten   Blocks.batchFlattenBlock(), before the first Linear when the input or the layer before is an image
 *   residual       a ParallelBlock adding Blocks.identityBlock() and F (Conv2d or Linear layers, each but the last
 *                  followed by ReLU, keeping the shape), then ReLU: y = relu(x + F(x)); the sum is checked on a probe
 * </pre>
 *
 * Anything else is refused, naming the block's class and its path in the model ({@code model/02LambdaBlock}); the
 * block must be initialized (its parameters exist, float32). Path-SGD's invariances need exactly this: positively
 * homogeneous ReLU units and a linear output.
 */
public final class DjlNetwork {
  private final Block block;
  private final PathsgdGraph graph;
  private final List<Parameter> params;
  private final int[] offsets;

  private DjlNetwork(Block block, PathsgdGraph graph, List<Parameter> params) {
    this.block = block;
    this.graph = graph;
    this.params = List.copyOf(params);
    this.offsets = graph.offsets();
    List<int[]> shapes = graph.shapes();
    if (shapes.size() != params.size()) {
      throw new IllegalStateException("djl: " + params.size() + " DJL parameters for " + shapes.size()
          + " pathsgd tensors of " + graph);
    }
    for (int i = 0; i < shapes.size(); i++) {
      long[] djl = params.get(i).getArray().getShape().getShape();
      if (!Arrays.equals(djl, Arrays.stream(shapes.get(i)).asLongStream().toArray())) {
        throw new IllegalStateException("djl: parameter " + params.get(i).getName() + " has shape "
            + Arrays.toString(djl) + " but pathsgd's " + graph + " expects " + Arrays.toString(shapes.get(i)));
      }
    }
  }

  /**
   * The description of an initialized {@code block} for the input shape it was initialized with (its first input,
   * without the batch axis).
   */
  public static DjlNetwork of(Block block) {
    Shape[] in = block.getInputShapes();
    if (in == null || in.length != 1) {
      throw new IllegalArgumentException("djl: the block is not initialized with one input (initialize it first)");
    }
    return of(block, in[0].slice(1));
  }

  /**
   * The description of an initialized {@code block} for inputs of {@code inputShape} without the batch axis: (C, H,
   * W) for images, (N) for vectors.
   *
   * @throws IllegalArgumentException naming the block's class and path for a block it does not support
   */
  public static DjlNetwork of(Block block, Shape inputShape) {
    if (inputShape.dimension() != 1 && inputShape.dimension() != 3) {
      throw new IllegalArgumentException("djl: input shape " + inputShape + ": expected (C, H, W) or (N), no batch axis");
    }
    List<Pair<String, Block>> leaves = new ArrayList<>();
    flatten("model", block, leaves);
    boolean flat = inputShape.dimension() == 1;
    long c = inputShape.get(0);
    long h = flat ? 1 : inputShape.get(1);
    long w = flat ? 1 : inputShape.get(2);
    List<String> items = new ArrayList<>();
    List<Parameter> params = new ArrayList<>();
    String pending = null; // the path of a conv or linear not yet followed by its ReLU
    int classes = -1;
    for (int i = 0; i < leaves.size(); i++) {
      String path = leaves.get(i).getKey();
      Block b = leaves.get(i).getValue();
      boolean last = i == leaves.size() - 1;
      if (pending != null && !(isRelu(b))) {
        throw new IllegalArgumentException("djl: " + pending + " must be followed by Activation.reluBlock() (only the "
            + "last Linear is linear), but " + path + " (" + b.getClass().getName() + ") follows it");
      }
      if (b instanceof Conv2d cv) {
        if (flat) {
          throw new IllegalArgumentException("djl: " + path + " (Conv2d) needs an image input but gets a vector of "
              + c * h * w);
        }
        Shape k = cv.getKernelShape();
        Shape s = cv.getStride();
        Shape p = cv.getPadding();
        checkConv(path, cv);
        items.add("conv(" + cv.getFilters() + "," + k.get(0) + "x" + k.get(1) + ",stride=" + s.get(0) + ",pad="
            + p.get(0) + ")");
        addParams(path, b, params);
        c = cv.getFilters();
        h = (h + 2 * p.get(0) - k.get(0)) / s.get(0) + 1;
        w = (w + 2 * p.get(1) - k.get(1)) / s.get(1) + 1;
        pending = path + " (Conv2d)";
      } else if (b instanceof Linear) {
        if (!flat) {
          throw new IllegalArgumentException("djl: " + path + " (Linear) gets an image " + c + "x" + h + "x" + w
              + " (it would act on the last axis only); put Blocks.batchFlattenBlock() before it");
        }
        addParams(path, b, params);
        long units = params.get(params.size() - 2).getArray().getShape().get(0);
        if (last) {
          classes = (int) units;
        } else {
          items.add("dense(" + units + ")");
          pending = path + " (Linear)";
        }
        c = units;
      } else if (isRelu(b)) {
        if (pending == null) {
          throw new IllegalArgumentException("djl: " + path + " (ReLU) must follow a Conv2d or a Linear");
        }
        pending = null;
      } else if (b instanceof PathSgdBlocks.PoolBlock pb) {
        if (flat) {
          throw new IllegalArgumentException("djl: " + path + " (" + pb.getName() + ") needs an image input but gets "
              + "a vector of " + c * h * w);
        }
        items.add((pb.max ? "maxpool(" : "avgpool(") + pb.k + ",stride=" + pb.stride + ")");
        h = (h - pb.k) / pb.stride + 1;
        w = (w - pb.k) / pb.stride + 1;
      } else if (b instanceof ParallelBlock pb) {
        items.add(residual(path, pb, flat, c, h, w, params));
        pending = path + " (residual ParallelBlock)"; // y = relu(x + F(x)): the ReLU after the sum comes next
      } else if (b instanceof LambdaBlock lb && "batchFlatten".equals(lb.getName())) {
        c = c * h * w;
        h = 1;
        w = 1;
        flat = true;
      } else {
        String what = b instanceof LambdaBlock lb ? " '" + lb.getName() + "'" : "";
        throw new IllegalArgumentException("djl: " + path + " (" + b.getClass().getName() + what + ") is not "
            + "supported; expected SequentialBlock, Conv2d, Linear, Activation.reluBlock(), PathSgdBlocks pooling "
            + "or Blocks.batchFlattenBlock()");
      }
    }
    if (classes < 0) {
      throw new IllegalArgumentException("djl: the model's last block must be a Linear without ReLU (the logits); "
          + "it is " + (leaves.isEmpty() ? "missing" : leaves.get(leaves.size() - 1).getKey()));
    }
    if (items.isEmpty()) {
      throw new IllegalArgumentException("djl: the model has no hidden layer (a Linear or Conv2d with ReLU before "
          + "the output Linear)");
    }
    long[] in = inputShape.getShape();
    PathsgdGraph g = in.length == 1 ? new PathsgdGraph(String.join(",", items), (int) in[0], 1, 1, classes)
        : new PathsgdGraph(String.join(",", items), (int) in[0], (int) in[1], (int) in[2], classes);
    DjlNetwork net = new DjlNetwork(block, g, params);
    net.pullWeights();
    return net;
  }

  /**
   * The spec item {@code res(...)} of a residual block: a {@link ParallelBlock} of two branches, {@code
   * Blocks.identityBlock()} and F (Conv2d or Linear layers, each but the last followed by ReLU, keeping the shape),
   * whose function adds them, checked on a probe input: its output must be x + F(x).
   */
  private static String residual(String path, ParallelBlock pb, boolean flat, long c, long h, long w,
      List<Parameter> params) {
    List<Pair<String, Block>> branches = new ArrayList<>();
    for (Pair<String, Block> child : pb.getChildren()) {
      branches.add(new Pair<>(path + "/" + child.getKey(), child.getValue()));
    }
    String usage = "; expected a residual block: ParallelBlock(x + F(x)) of Blocks.identityBlock() and F";
    long identities = branches.stream().filter(p -> p.getValue() instanceof LambdaBlock lb
        && "identity".equals(lb.getName())).count();
    if (branches.size() != 2 || identities != 1) {
      throw new IllegalArgumentException("djl: " + path + " (" + pb.getClass().getName() + ") has " + branches.size()
          + " branches, " + identities + " of them identity" + usage);
    }
    Pair<String, Block> f = branches.get(0).getValue() instanceof LambdaBlock lb0 && "identity".equals(lb0.getName())
        ? branches.get(1) : branches.get(0);
    List<Pair<String, Block>> leaves = new ArrayList<>();
    flatten(f.getKey(), f.getValue(), leaves);
    List<String> inner = new ArrayList<>();
    int first = params.size();
    for (int i = 0; i < leaves.size(); i++) {
      String at = leaves.get(i).getKey();
      Block b = leaves.get(i).getValue();
      boolean last = i == leaves.size() - 1;
      Block next = last ? null : leaves.get(i + 1).getValue();
      if (b instanceof Conv2d cv && !flat) {
        checkConv(at, cv);
        addParams(at, b, params);
        Shape k = cv.getKernelShape();
        inner.add("conv(" + cv.getFilters() + "," + k.get(0) + "x" + k.get(1) + ",stride=" + cv.getStride().get(0)
            + ",pad=" + cv.getPadding().get(0) + ")");
      } else if (b instanceof Linear && flat) {
        addParams(at, b, params);
        inner.add("dense(" + params.get(params.size() - 2).getArray().getShape().get(0) + ")");
      } else {
        throw new IllegalArgumentException("djl: " + at + " (" + b.getClass().getName() + ") in residual block " + path
            + " is not supported; F holds " + (flat ? "Linear" : "Conv2d") + " layers, each but the last followed "
            + "by Activation.reluBlock()");
      }
      if (!last) {
        if (!isRelu(next)) {
          throw new IllegalArgumentException("djl: " + at + " in residual block " + path + " must be followed by "
              + "Activation.reluBlock() (only F's last layer is linear)");
        }
        i++;
        if (i == leaves.size() - 1) {
          throw new IllegalArgumentException("djl: residual block " + path + " ends F with a ReLU; F's last layer "
              + "must be linear (the ReLU comes after the sum)");
        }
      }
    }
    if (inner.isEmpty()) {
      throw new IllegalArgumentException("djl: residual block " + path + " has an empty F" + usage);
    }
    // the function: on a probe input, the block's output must be x + F(x)
    NDManager m = params.get(first).getArray().getManager().newSubManager();
    try (m) {
      Shape probe = flat ? new Shape(2, c * h * w) : new Shape(2, c, h, w);
      NDArray x = m.randomUniform(-1, 1, probe);
      ParameterStore ps = new ParameterStore(m, false);
      NDList fx = f.getValue().forward(ps, new NDList(x), false);
      NDList y = pb.forward(ps, new NDList(x), false);
      if (y.size() != 1 || fx.size() != 1 || !y.singletonOrThrow().getShape().equals(probe)
          || !y.singletonOrThrow().allClose(fx.singletonOrThrow().add(x), 1e-5, 1e-6, false)) {
        throw new IllegalArgumentException("djl: " + path + " (" + pb.getClass().getName() + ") does not compute "
            + "x + F(x) on a probe input (its function must add the two branches)" + usage);
      }
    }
    return "res(" + String.join(",", inner) + ")";
  }

  private static void checkConv(String path, Conv2d cv) {
    Shape s = cv.getStride();
    Shape p = cv.getPadding();
    Shape d = cv.getDilation();
    if (!cv.isIncludeBias() || cv.getGroups() != 1 || d.get(0) != 1 || d.get(1) != 1 || s.get(0) != s.get(1)
        || p.get(0) != p.get(1)) {
      throw new IllegalArgumentException("djl: " + path + " (Conv2d) has bias " + cv.isIncludeBias() + ", groups "
          + cv.getGroups() + ", dilation " + d + ", stride " + s + ", padding " + p + "; expected a bias, one "
          + "group, dilation (1, 1) and equal strides and paddings on both axes");
    }
  }

  private static boolean isRelu(Block b) {
    return b instanceof LambdaBlock lb && "ReLU".equals(lb.getName());
  }

  private static void flatten(String path, Block b, List<Pair<String, Block>> out) {
    if (b instanceof SequentialBlock) {
      for (Pair<String, Block> child : b.getChildren()) {
        flatten(path + "/" + child.getKey(), child.getValue(), out);
      }
    } else {
      out.add(new Pair<>(path, b));
    }
  }

  private static void addParams(String path, Block b, List<Parameter> params) {
    Parameter weight = b.getDirectParameters().get("weight");
    Parameter bias = b.getDirectParameters().get("bias");
    if (bias == null) {
      throw new IllegalArgumentException("djl: " + path + " (" + b.getClass().getSimpleName() + ") has no bias; "
          + "pathsgd's layers have one (optBias(true))");
    }
    for (Parameter p : new Parameter[] {weight, bias}) {
      if (p == null || !p.isInitialized()) {
        throw new IllegalArgumentException("djl: " + path + " is not initialized: initialize the model first "
            + "(trainer.initialize or block.initialize)");
      }
      if (p.getArray().getDataType() != DataType.FLOAT32) {
        throw new IllegalArgumentException("djl: " + path + " " + p.getName() + " is " + p.getArray().getDataType()
            + "; expected float32");
      }
      params.add(p);
    }
  }

  /** The block described. */
  public Block block() {
    return block;
  }

  /** The hidden layers as {@code pathsgd train --layers} spells them (the output layer is implied). */
  public String layers() {
    return graph.spec();
  }

  /** The number of parameters. */
  public int size() {
    return graph.size();
  }

  /** The DJL parameters in pathsgd's order (weight, bias of each layer). */
  public List<Parameter> parameters() {
    return params;
  }

  /** Copies the DJL model's weights into pathsgd's parameter vector (device to host for a GPU model). */
  public void pullWeights() {
    FloatBuffer dst = graph.params();
    for (int i = 0; i < params.size(); i++) {
      copyIn(params.get(i).getArray(), dst, offsets[i]);
    }
  }

  /** Copies pathsgd's parameter vector into the DJL model's weights, in place. */
  public void pushWeights() {
    FloatBuffer src = graph.params();
    for (int i = 0; i < params.size(); i++) {
      copyOut(src, offsets[i], params.get(i).getArray());
    }
  }

  /** A copy of pathsgd's parameter vector as last pulled or changed. */
  public float[] weights() {
    float[] out = new float[graph.size()];
    graph.params().get(0, out);
    return out;
  }

  /**
   * Copies {@code a} into {@code dst} at {@code offset}: through a direct view of a CPU tensor's storage (one copy;
   * a GPU tensor is first copied to the host by DJL).
   */
  static void copyIn(NDArray a, FloatBuffer dst, int offset) {
    FloatBuffer src = a.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
    dst.put(offset, src, 0, src.remaining());
  }

  /**
   * Copies {@code a.size()} floats from {@code src} at {@code offset} into {@code a}'s own storage, in place (a
   * gradient handle shares it with the real gradient). A CPU tensor is written through a direct view of its storage
   * (one copy), confirmed on its last element (a tensor whose view DJL had to copy, not contiguous, shows the old
   * value there); otherwise, or when the last element cannot tell, through a temporary array and an index copy. Not
   * {@code NDArray.set(Buffer)}: with DJL 0.36's PyTorch engine that points the tensor at a temporary copy of the
   * buffer, which the garbage collector frees while the tensor still uses it (GradientHandleTest).
   */
  static void copyOut(FloatBuffer src, int offset, NDArray a) {
    int n = Math.toIntExact(a.size());
    if (!a.getDevice().isGpu() && n > 0) {
      long[] last = a.getShape().getShape().clone();
      for (int d = 0; d < last.length; d++) {
        last[d]--;
      }
      float before = a.getFloat(last);
      float want = src.get(offset + n - 1);
      java.nio.ByteBuffer view = a.toByteBuffer(true);
      if (view.isDirect() && Float.floatToRawIntBits(before) != Float.floatToRawIntBits(want)) {
        view.order(ByteOrder.nativeOrder()).asFloatBuffer().put(0, src, offset, n);
        if (Float.floatToRawIntBits(a.getFloat(last)) == Float.floatToRawIntBits(want)) {
          return;
        }
      }
    }
    try (NDArray tmp = a.getManager().create(src.slice(offset, n), a.getShape())) {
      a.set(ALL, tmp);
    }
  }

  private static final NDIndex ALL = new NDIndex(":");

  /** Offsets of {@link #parameters()} in pathsgd's vector. */
  int[] offsets() {
    return offsets.clone();
  }

  PathsgdGraph graph() {
    return graph;
  }

  /** φ_p of the model's current weights (pulled first), biases as edges from a constant-1 unit; p may be ∞. */
  public double pathNorm(double p) {
    pullWeights();
    return graph.phi(p);
  }

  /**
   * The model's norms (weights pulled first) by pathsgd's metric names: path_norm_1, path_norm_2, path_norm_inf,
   * l2_norm, max_unit_norm, spectral_norm_product (as a run's {@code metrics.csv}, split model).
   */
  public Map<String, Double> norms() {
    pullWeights();
    double[] v = graph.norms();
    List<String> names = PathsgdGraph.normNames();
    Map<String, Double> out = new java.util.LinkedHashMap<>();
    for (int i = 0; i < v.length; i++) {
      out.put(names.get(i), v[i]);
    }
    return out;
  }

  /**
   * pathsgd's unbalanced initialization on the DJL model, in place: round(fraction·channels) channels of each hidden
   * layer, each scaled by a log-normal factor (incoming weights ×c, outgoing ×1/c): pathsgd's per-layer density and
   * factors ({@code Unbalance.perLayer(fraction)}) drawn from {@code new Rng(seed)}. The network function and every
   * path norm are unchanged.
   *
   * @return the factor of each channel, {@code f[k][ch]} for the hidden layers k of {@link #hiddenLayers()} (other
   *     rows null)
   */
  public double[][] unbalance(double fraction, long seed) {
    pullWeights();
    double[][] f = graph.unbalance(fraction, seed);
    pushWeights();
    return f;
  }

  /**
   * Rescales the DJL model's channels in place: channel ch of hidden layer k (a conv's filter or a dense unit) by
   * {@code f[k][ch]}, its incoming weights and bias ×c, the weights reading it ×1/c; rows of other layers, null rows
   * and factors 1 are skipped.
   */
  public void rescale(double[][] f) {
    pullWeights();
    for (int k : graph.hiddenLayers()) {
      if (k < f.length && f[k] != null) {
        for (int ch = 0; ch < f[k].length; ch++) {
          if (f[k][ch] != 1.0) {
            graph.scaleChannel(k, ch, f[k][ch]);
          }
        }
      }
    }
    pushWeights();
  }

  /** The indices k of the layers whose channels {@link #rescale} takes, in pathsgd's layer list (pooling counts). */
  public int[] hiddenLayers() {
    return graph.hiddenLayers();
  }

  /** The channels of layer k. */
  public int channels(int k) {
    return graph.channels(k);
  }

  /** The length of a factor table for {@link #rescale}. */
  public int layerCount() {
    return graph.layerCount();
  }

  /**
   * Writes the model's weights (pulled first) as pathsgd's safetensors, with its layer spec and input shape: {@code
   * pathsgd norms FILE}, {@code pathsgd train --init-model FILE} and {@code safetensors.torch.load_file} read it.
   */
  public void export(Path file) {
    pullWeights();
    graph.write(file, Map.of("source", "djl"));
  }

  /**
   * Loads weights from a pathsgd safetensors file into the DJL model, in place; refuses, naming the file, one whose
   * tensors are not this model's shapes.
   */
  public void importWeights(Path file) throws IOException {
    graph.read(file);
    pushWeights();
  }

  @Override
  public String toString() {
    return "DjlNetwork[" + graph + "]";
  }
}
