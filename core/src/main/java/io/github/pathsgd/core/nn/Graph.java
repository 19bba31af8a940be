package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.nn.Network.Workspace;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.ArrayList;
import java.util.List;

/**
 * The executor of a network: a graph of {@link Op}s over one parameter vector, run in topological order: node 0 is the
 * input, op k writes node k + 1 and reads only nodes below it (the list is in topological order, checked), the last
 * node holds the logits. Forward runs the ops in order; backward zeroes the error buffer of every node with several
 * readers once, then runs them in reverse, each adding into its inputs' errors (a node read by two ops, as the input
 * of a residual block, receives both; a node's only reader writes its error). Activations, errors and scratch live in
 * the {@link Network.Workspace}; an op holds shapes and offsets only.
 *
 * <p>A {@link LayerNet} runs on its graph ({@link LayerNet#graph()}), which is not a {@link Network} itself: {@link
 * #of(Network)} gives the graph of any network of layers over its parameters, a {@link Residual} block expanded into
 * F's ops, an {@link AddOp} and a {@link ReluOp} ({@link Layer#addTo}).
 */
public final class Graph {
  private final int inputs;
  private final List<Op> ops;
  private final int[] widths; // node widths: [0] the input, [k + 1] op k's output
  private final int[][] inputsOf;
  private final int[] readers; // how many op inputs read each node
  private final boolean[][] sole; // sole[k][j]: op k is the only reader of its input j's node
  private final Tensor params;

  /** A graph of {@code ops} over {@code params} (not copied) for inputs {@code inputs} wide; see the class comment. */
  public Graph(int inputs, List<Op> ops, Tensor params) {
    if (ops.isEmpty()) {
      throw new IllegalArgumentException("a graph needs at least one op");
    }
    this.inputs = inputs;
    this.ops = List.copyOf(ops);
    this.widths = new int[ops.size() + 1];
    this.inputsOf = new int[ops.size()][];
    widths[0] = inputs;
    int size = 0;
    for (int k = 0; k < ops.size(); k++) {
      Op op = ops.get(k);
      int[] in = op.inputs();
      for (int j = 0; j < in.length; j++) {
        if (in[j] < 0 || in[j] > k) {
          throw new IllegalArgumentException("op " + k + " (" + op.kind() + ") reads node " + in[j]
              + ", expected a node in 0.." + k + " (ops in topological order)");
        }
        if (widths[in[j]] != op.in(j)) {
          throw new IllegalArgumentException("op " + k + " (" + op.kind() + ") takes " + op.in(j) + " inputs at its "
              + "input " + j + " but node " + in[j] + " has " + widths[in[j]]);
        }
      }
      inputsOf[k] = in;
      widths[k + 1] = op.out();
      for (ParamSlice s : op.params()) {
        size = Math.max(size, s.offset() + s.size());
      }
    }
    this.readers = new int[ops.size() + 1];
    for (int[] in : inputsOf) {
      for (int n : in) {
        readers[n]++;
      }
    }
    this.sole = new boolean[ops.size()][];
    for (int k = 0; k < ops.size(); k++) {
      sole[k] = new boolean[inputsOf[k].length];
      for (int j = 0; j < sole[k].length; j++) {
        sole[k][j] = readers[inputsOf[k][j]] == 1;
      }
    }
    if (params.size() < size) {
      throw new IllegalArgumentException("parameter vector has " + params.size() + " floats, the ops need " + size);
    }
    this.params = params;
  }

  /**
   * {@code net}'s layers as a graph over its parameters (not copied): each layer one op, a block its inner ops ({@link
   * Layer#addTo}).
   */
  public static Graph of(Network net) {
    return new Graph(net.inputs(), expand(net.layers()), net.params());
  }

  /**
   * A chain of layers as ops in topological order ({@link Layer#addTo}: a layer one op, a block its inner ops): the
   * executor's and the path sweeps' view of a network of layers.
   */
  public static List<Op> expand(List<? extends Layer> layers) {
    List<Op> ops = new ArrayList<>();
    int at = 0;
    for (Layer l : layers) {
      at = l.addTo(ops, at);
    }
    return ops;
  }

  /** The ops, in topological order. */
  public List<Op> ops() {
    return ops;
  }

  /** The width of node {@code n} (0: the input; k + 1: op k's output). */
  public int width(int n) {
    return widths[n];
  }

  /** The parameters (not a copy). */
  public Tensor params() {
    return params;
  }

  /** The input width. */
  public int inputs() {
    return inputs;
  }

  /** The output width (logits per row). */
  public int outputs() {
    return widths[widths.length - 1];
  }

  /** The same ops over a copy of the parameters. */
  public Graph copy() {
    return new Graph(inputs, ops, params.copy());
  }

  /** Activations and errors of every node, the scratch of the ops' backward, and each op's views of them. */
  public Workspace workspace(int maxBatch) {
    return workspace(maxBatch, false);
  }

  /**
   * {@link #workspace(int)}, with the folded step's scratch when {@code folded} ({@link LayerNet}'s fast path): the
   * shared scratch {@code tmp} only when an op's input node has other readers (its error is written there and added),
   * as wide as the widest such input; each op's step scratch from the sizes it declares ({@link Op#scratch}), once.
   */
  Workspace workspace(int maxBatch, boolean folded) {
    int tmpWidth = 0;
    for (int k = 0; k < ops.size(); k++) {
      for (int j = 0; j < inputsOf[k].length; j++) {
        if (inputsOf[k][j] != 0 && !sole[k][j]) {
          tmpWidth = Math.max(tmpWidth, widths[inputsOf[k][j]]);
        }
      }
    }
    Workspace ws = new Workspace(widths, maxBatch, tmpWidth, folded);
    ws.opIns = new Tensor[ops.size()][];
    ws.opDins = new Tensor[ops.size()][];
    ws.opScratch = new Layer.Scratch[ops.size()];
    for (int k = 0; k < ops.size(); k++) {
      ws.opScratch[k] = ops.get(k).scratch(maxBatch);
      int[] in = inputsOf[k];
      ws.opIns[k] = new Tensor[in.length];
      ws.opDins[k] = new Tensor[in.length];
      for (int j = 0; j < in.length; j++) {
        ws.opIns[k][j] = ws.acts[in[j]];
        ws.opDins[k][j] = in[j] == 0 ? null : ws.deltas[in[j]]; // nobody needs the input's error
      }
    }
    return ws;
  }

  private Tensor[] ins(Workspace ws, int k) {
    if (ws.opIns == null || ws.opIns.length != ops.size()) {
      throw new IllegalArgumentException("a workspace of another network; use this graph's workspace()");
    }
    return ws.opIns[k];
  }

  /**
   * The input dropout (when {@code dropout.active()} and {@code dropout.inputRetain() < 1}), then the ops in order
   * (hidden ops with the hidden keep rate).
   */
  public Tensor forward(Workspace ws, int B, Dropout dropout, Rng rng) {
    ws.check(B);
    if (dropout.active() && dropout.inputRetain() < 1f) {
      Layers.dropoutForward(ws.acts[0], B, inputs, dropout.inputRetain(), rng);
    }
    return forward(ws, B, dropout.active() ? dropout.hiddenRetain() : 1f, rng);
  }

  /** The ops in order on the first B rows of {@code ws.input()} (no input dropout); returns the logits. */
  public Tensor forward(Workspace ws, int B, float retain, Rng rng) {
    ws.check(B);
    for (int k = 0; k < ops.size(); k++) {
      ops.get(k).forward(ws.acts[k + 1], ins(ws, k), params, B, retain, rng, ws.opScratch[k]);
    }
    return ws.acts[ops.size()];
  }

  /** {@link #backward} with the dropout's hidden keep rate, after {@link #forward(Workspace, int, Dropout, Rng)}. */
  public StepStats gradientAfterForward(Workspace ws, int B, int[] labels, int yOff, Tensor grads, Dropout dropout) {
    return backward(ws, B, labels, yOff, grads, dropout.active() ? dropout.hiddenRetain() : 1f);
  }

  /** {@link #forward(Workspace, int, Dropout, Rng)}, then {@link #gradientAfterForward}. */
  public StepStats lossAndGradient(Workspace ws, int B, int[] labels, int yOff, Tensor grads, Dropout dropout,
      Rng rng) {
    forward(ws, B, dropout, rng);
    return gradientAfterForward(ws, B, labels, yOff, grads, dropout);
  }

  /**
   * The loss of the activations of the last forward pass, then backward: the ops in reverse order, each adding into
   * its inputs' errors and writing its parameters' gradient into {@code grads}. Only the error buffers of nodes read
   * by more than one op are zeroed (once, first); a node with one reader gets its error written by that op ({@link
   * Op#backward}'s {@code sole}), so a chain of layers makes no extra pass over its activations.
   */
  public StepStats backward(Workspace ws, int B, int[] labels, int yOff, Tensor grads, float retain) {
    int L = ops.size();
    ws.loss.apply(ws.acts[L], labels, yOff, B, outputs(), ws.deltas[L], ws.lossOut);
    for (int n = 1; n < L; n++) { // the one zeroing of backward: the readers of a shared node add into its error
      if (readers[n] > 1) {
        ws.deltas[n].fill(0, B * widths[n], 0f);
      }
    }
    for (int k = L - 1; k >= 0; k--) {
      ops.get(k).backward(ws.opDins[k], sole[k], grads, ws.deltas[k + 1], ws.acts[k + 1], ins(ws, k), params, B,
          retain, ws.tmp, ws.opScratch[k]);
    }
    return new StepStats(ws.lossOut[0] / B, (int) ws.lossOut[1]);
  }

  /** Evaluation (no dropout): the summed loss and the error count over the first B rows. */
  public StepStats evaluate(Workspace ws, int B, int[] labels, int yOff) {
    Tensor logits = forward(ws, B, Dropout.NONE, null);
    ws.loss.apply(logits, labels, yOff, B, outputs(), null, ws.lossOut);
    return new StepStats(ws.lossOut[0], (int) ws.lossOut[1]);
  }

  /**
   * The tie groups of the nodes: {@code group[n]} is the smallest node joined to node n through ops' ties ({@link
   * Op#tiedInputs()}: an add joins its inputs and output by edges of fixed weight 1, a ReLU or a pooling its input and
   * output). Channel ch of every node of a group must be rescaled by the same factor; a group that holds the input
   * (node 0) or the output node cannot be rescaled at all. {@code core.geometry.RescalingGroups} builds on these.
   */
  public int[] tieGroups() {
    return tieGroups(ops);
  }

  /** {@link #tieGroups()} of a list of ops in topological order (node k + 1 written by op k), without building it. */
  public static int[] tieGroups(List<Op> ops) {
    int[] parent = new int[ops.size() + 1];
    for (int n = 0; n < parent.length; n++) {
      parent[n] = n;
    }
    for (int k = 0; k < ops.size(); k++) {
      int[] in = ops.get(k).inputs();
      for (int j : ops.get(k).tiedInputs()) {
        int a = find(parent, in[j]);
        int b = find(parent, k + 1);
        parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
    int[] group = new int[parent.length];
    for (int n = 0; n < parent.length; n++) {
      group[n] = find(parent, n);
    }
    return group;
  }

  private static int find(int[] parent, int n) {
    while (parent[n] != n) {
      n = parent[n];
    }
    return n;
  }
}
