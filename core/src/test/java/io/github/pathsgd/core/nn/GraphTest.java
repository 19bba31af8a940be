package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The graph of ops ({@link Graph}) against references that do not use its executor: a network of layers' graph (a
 * residual block expanded into its branch, an {@link AddOp} and a {@link ReluOp}, backward accumulating), stepped by
 * hand with the optimizer, trains bit for bit as the network through {@link TrainStep}, dense and convolutional, with SGD, momentum and Path-SGD, with dropout;
 * its gradient matches central differences of {@link ResidualTest}'s forward written out in double; its φ_p matches
 * the brute-force enumeration of every path; its tie groups are the connected components of the fixed edges, and a
 * rescaling of one group leaves the logits bit for bit (power of two) while a rescaling of one member alone does not.
 */
class GraphTest {
  static final float[] XS = inputs(6 * ResidualTest.IN, 5);

  static float[] inputs(int n, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }

  /** The parameters after {@code steps} steps of {@code opt} on {@code net} (a fixed batch, seeded dropout). */
  static float[] train(Network net, Optimizer opt, Dropout dropout, int steps, float[] xs, int[] labels) {
    int B = labels.length;
    TrainStep step = new TrainStep(net, opt, B);
    Rng rng = new Rng(11);
    for (int s = 0; s < steps; s++) {
      step.workspace().input().copyFrom(xs, 0, 0, xs.length);
      step.run(B, labels, dropout, rng);
    }
    return net.params().toArray();
  }

  /**
   * {@link #train} without {@link TrainStep} or {@link LayerNet}: the graph's own forward and backward over {@code
   * net}'s parameters, then {@link Optimizer#step} with a state of {@code net}'s layout.
   */
  static float[] trainOnGraph(LayerNet net, Optimizer opt, Dropout dropout, int steps, float[] xs, int[] labels) {
    int B = labels.length;
    Graph g = Graph.of(net);
    Network.Workspace ws = g.workspace(B);
    var state = opt.init(net.layout());
    Tensor grads = new Tensor(net.params().size());
    Rng rng = new Rng(11);
    for (int s = 0; s < steps; s++) {
      ws.input().copyFrom(xs, 0, 0, xs.length);
      g.lossAndGradient(ws, B, labels, 0, grads, dropout, rng);
      opt.step(g.params(), grads, state);
    }
    return g.params().toArray();
  }

  @Test
  void aResidualNetworkRunAsAGraphTrainsBitForBitAsTheNetwork() {
    int[] labels = {0, 1, 1, 0, 1, 0};
    Dropout drop = new Dropout(0.8f, 0.9f);
    for (Optimizer opt : List.of(Optimizers.sgd(0.1, 0.9, false), Optimizers.pathSgd(0.05, 2, 0.9, false),
        Optimizers.adagrad(0.05))) {
      for (Dropout d : List.of(Dropout.NONE, drop)) {
        LayerNet a = ResidualTest.net(3);
        assertThat(a.graph().ops().stream().map(Op::kind))
            .containsExactly("dense", "dense", "dense", "add", "relu", "dense");
        float[] want = train(a, opt, d, 4, XS, labels);
        assertThat(want).isNotEqualTo(ResidualTest.net(3).params().toArray()); // the steps moved the parameters
        assertThat(trainOnGraph(ResidualTest.net(3), opt, d, 4, XS, labels)).as("%s, %s", opt, d)
            .containsExactly(want);
      }
    }
  }

  @Test
  void aConvolutionalResidualNetworkRunAsAGraphTrainsBitForBitAsTheNetwork() {
    LayerSpec spec = LayerSpec.parse("conv(3,3,pad=1),res(conv(3,3,pad=1),conv(3,3,pad=1)),avgpool(2),dense(5)");
    int B = 3;
    float[] xs = inputs(B * 2 * 4 * 4, 8);
    int[] labels = {2, 0, 1};
    for (Optimizer opt : List.of(Optimizers.sgd(0.05, 0.9, false), Optimizers.pathSgd(0.02, 2, 0.9, false))) {
      LayerNet a = spec.build(2, 4, 4, 3);
      Init.balanced(a, new Rng(4));
      LayerNet b = spec.build(2, 4, 4, 3);
      b.params().copyFrom(a.params().toArray(), 0, 0, a.params().size());
      assertThat(b.graph().ops().stream().map(Op::kind)).contains("add", "relu");
      float[] want = train(a, opt, new Dropout(0.75f, 1f), 3, xs, labels);
      assertThat(trainOnGraph(b, opt, new Dropout(0.75f, 1f), 3, xs, labels)).as("%s", opt).containsExactly(want);
    }
  }

  @Test
  void theGraphsGradientMatchesCentralDifferencesOfTheBlockWrittenOutInDouble() {
    Graph g = Graph.of(ResidualTest.net(3));
    int B = 4;
    float[] xs = inputs(B * ResidualTest.IN, 5);
    int[] labels = {0, 1, 1, 0};
    Network.Workspace ws = g.workspace(B);
    ws.input().copyFrom(xs, 0, 0, xs.length);
    Tensor grads = new Tensor(ResidualTest.SIZE);
    double lossF = g.lossAndGradient(ws, B, labels, 0, grads, Dropout.NONE, null).loss();
    double[] t = new double[ResidualTest.SIZE];
    for (int i = 0; i < t.length; i++) {
      t[i] = g.params().get(i);
    }
    assertThat(lossF).isCloseTo(ResidualTest.loss(t, xs, labels), within(1e-5));
    double eps = 1e-6;
    for (int i = 0; i < t.length; i++) {
      double t0 = t[i];
      t[i] = t0 + eps;
      double lp = ResidualTest.loss(t, xs, labels);
      t[i] = t0 - eps;
      double lm = ResidualTest.loss(t, xs, labels);
      t[i] = t0;
      double num = (lp - lm) / (2 * eps);
      assertThat((double) grads.get(i)).as("parameter %d", i).isCloseTo(num, within(1e-4 + 1e-3 * Math.abs(num)));
    }
  }

  @Test
  void theGraphsPhiIsTheBruteForceSumOverEveryPath() {
    for (long seed = 1; seed <= 3; seed++) {
      LayerNet n = ResidualTest.net(seed);
      Graph g = Graph.of(n);
      for (double p : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
        double brute = ResidualTest.bruteForcePhi(n, p);
        assertThat(PathNorms.phi(g, g.params(), p, true)).as("seed %d, p %s", seed, p)
            .isCloseTo(brute, within(1e-9 * brute));
      }
    }
  }

  @Test
  void theTieGroupsAreTheComponentsOfTheFixedEdges() {
    Graph g = Graph.of(ResidualTest.net(2));
    // nodes: 0 input, 1 dense h, 2 F's hidden g, 3 F's output, 4 h + F, 5 relu (the block's output), 6 logits
    assertThat(g.tieGroups()).containsExactly(0, 1, 2, 1, 1, 1, 6);
  }

  /** Scales unit i of every node in {@code nodes}: the rows that write it ×c, the columns that read it ×1/c. */
  static void rescale(Graph g, List<Integer> nodes, int i, float c) {
    FloatBufferOps w = new FloatBufferOps(g.params());
    for (int k = 0; k < g.ops().size(); k++) {
      Op op = g.ops().get(k);
      List<ParamSlice> s = op.params();
      if (nodes.contains(k + 1) && !s.isEmpty()) { // the op writes a member: its row i and bias i
        ParamSlice weight = s.get(0);
        for (int j = 0; j < weight.fanIn(); j++) {
          w.mul(weight.offset() + i * weight.fanIn() + j, c);
        }
        w.mul(s.get(1).offset() + i, c);
      }
      if (nodes.contains(op.inputs()[0]) && op instanceof LayerOp lo) { // a layer reads a member: its column i
        lo.layer().inputChannelRanges(i, g.width(op.inputs()[0]), (from, n) -> {
          for (int q = from; q < from + n; q++) {
            w.mul(q, 1 / c);
          }
        });
      }
    }
  }

  /** Multiplies entries of a parameter tensor. */
  record FloatBufferOps(Tensor t) {
    void mul(int i, float c) {
      t.set(i, t.get(i) * c);
    }
  }

  static float[] logits(Graph g, float[] xs, int B) {
    Network.Workspace ws = g.workspace(B);
    ws.input().copyFrom(xs, 0, 0, xs.length);
    g.evaluate(ws, B, new int[B], 0);
    return ws.logits().toArray(0, B * g.outputs());
  }

  @Test
  void rescalingATieGroupKeepsTheFunctionAndPhiAndOneMemberAloneDoesNot() {
    int B = 6;
    Graph g = Graph.of(ResidualTest.net(7));
    float[] before = logits(g, XS, B);
    Network.Workspace ws = g.workspace(B);
    ws.input().copyFrom(XS, 0, 0, XS.length);
    g.evaluate(ws, B, new int[B], 0);
    double phi = PathNorms.phi(g, g.params(), 2, true);
    int changed = 0;
    for (int i = 0; i < ResidualTest.H; i++) {
      Graph r = g.copy();
      rescale(r, List.of(1, 3, 4, 5), i, 4f);
      assertThat(logits(r, XS, B)).as("unit %d", i).containsExactly(before);
      assertThat(PathNorms.phi(r, r.params(), 2, true)).isCloseTo(phi, within(1e-12 * phi));
      Graph alone = g.copy();
      rescale(alone, List.of(3), i, 4f); // F's output only: the skip's weight 1 would have to change
      boolean active = false; // the block's output unit i is positive on some row: then the change shows
      for (int b = 0; b < B; b++) {
        active |= ws.activation(5).get(b * ResidualTest.H + i) > 0;
      }
      if (active) {
        assertThat(logits(alone, XS, B)).as("unit %d alone", i).isNotEqualTo(before);
        changed++;
      }
    }
    assertThat(changed).isPositive();
  }

  @Test
  void opsOutOfTopologicalOrderOrOfTheWrongWidthAreRefusedByName() {
    Tensor params = new Tensor(ResidualTest.SIZE);
    assertThatThrownBy(() -> new Graph(3, List.of(new AddOp(1, 2, 3)), params))
        .hasMessageContaining("op 0 (add) reads node 1").hasMessageContaining("topological");
    assertThatThrownBy(() -> new Graph(3, List.of(new LayerOp(new Dense(4, 2, 0, false), 0)), params))
        .hasMessageContaining("op 0 (dense) takes 4 inputs").hasMessageContaining("node 0 has 3");
  }

  // a hand-made diamond: node 1 is read by two dense ops, whose outputs are added, then ReLU, then the output layer
  static final int[] OFF = {0, 16, 36, 56, 76};
  static final int DIAMOND_SIZE = 86;

  static Graph diamond(long seed) {
    Tensor params = new Tensor(DIAMOND_SIZE);
    Random r = new Random(seed);
    for (int i = 0; i < DIAMOND_SIZE; i++) {
      params.set(i, (float) (r.nextGaussian() * 0.6));
    }
    return new Graph(3, List.of(new LayerOp(new Dense(3, 4, OFF[0], true), 0),
        new LayerOp(new Dense(4, 4, OFF[1], false), 1), new LayerOp(new Dense(4, 4, OFF[2], false), 1),
        new AddOp(2, 3, 4), new ReluOp(4, 4), new LayerOp(new Dense(4, 2, OFF[3], false), 5)), params);
  }

  /** The graph's forward in double, op by op from the ops' declared slices (no executor, no kernels). */
  static double[][] forwardDouble(Graph g, double[] t, double[] x) {
    double[][] node = new double[g.ops().size() + 1][];
    node[0] = x;
    for (int k = 0; k < g.ops().size(); k++) {
      Op op = g.ops().get(k);
      int[] in = op.inputs();
      double[] y = new double[op.out()];
      switch (op.kind()) {
        case "dense" -> {
          ParamSlice w = op.params().get(0);
          int b = op.params().get(1).offset();
          for (int v = 0; v < op.out(); v++) {
            double a = t[b + v];
            for (int u = 0; u < w.fanIn(); u++) {
              a += t[w.offset() + v * w.fanIn() + u] * node[in[0]][u];
            }
            y[v] = ((LayerOp) op).layer().relu() ? Math.max(a, 0) : a;
          }
        }
        case "add" -> {
          for (int v = 0; v < op.out(); v++) {
            y[v] = node[in[0]][v] + node[in[1]][v];
          }
        }
        case "relu" -> {
          for (int v = 0; v < op.out(); v++) {
            y[v] = Math.max(node[in[0]][v], 0);
          }
        }
        default -> throw new AssertionError(op.kind());
      }
      node[k + 1] = y;
    }
    return node;
  }

  static double lossDouble(Graph g, double[] t, float[] xs, int[] labels) {
    double s = 0;
    int n = g.inputs();
    for (int b = 0; b < labels.length; b++) {
      double[] x = new double[n];
      for (int i = 0; i < n; i++) {
        x[i] = xs[b * n + i];
      }
      double[][] node = forwardDouble(g, t, x);
      double[] o = node[node.length - 1];
      double m = Math.max(o[0], o[1]);
      s += m + Math.log(Math.exp(o[0] - m) + Math.exp(o[1] - m)) - o[labels[b]];
    }
    return s / labels.length;
  }

  @Test
  void aNodeReadByTwoOpsReceivesBothErrorsAndTheGradientMatchesCentralDifferences() {
    Graph g = diamond(4);
    int B = 5;
    float[] xs = inputs(B * 3, 6);
    int[] labels = {0, 1, 1, 0, 1};
    Network.Workspace ws = g.workspace(B);
    ws.input().copyFrom(xs, 0, 0, xs.length);
    Tensor grads = new Tensor(DIAMOND_SIZE);
    double lossF = g.lossAndGradient(ws, B, labels, 0, grads, Dropout.NONE, null).loss();
    double[] t = new double[DIAMOND_SIZE];
    for (int i = 0; i < t.length; i++) {
      t[i] = g.params().get(i);
    }
    assertThat(lossF).isCloseTo(lossDouble(g, t, xs, labels), within(1e-5));
    double eps = 1e-6;
    for (int i = 0; i < t.length; i++) {
      double t0 = t[i];
      t[i] = t0 + eps;
      double lp = lossDouble(g, t, xs, labels);
      t[i] = t0 - eps;
      double lm = lossDouble(g, t, xs, labels);
      t[i] = t0;
      double num = (lp - lm) / (2 * eps);
      assertThat((double) grads.get(i)).as("parameter %d", i).isCloseTo(num, within(1e-4 + 1e-3 * Math.abs(num)));
    }
    // the first layer's gradient needs both branches' errors: with one branch's weights zeroed it changes
    Graph one = diamond(4);
    one.params().fill(OFF[2], OFF[3] - OFF[2], 0f);
    Network.Workspace ws1 = one.workspace(B);
    ws1.input().copyFrom(xs, 0, 0, xs.length);
    Tensor g1 = new Tensor(DIAMOND_SIZE);
    one.lossAndGradient(ws1, B, labels, 0, g1, Dropout.NONE, null);
    assertThat(g1.toArray(0, OFF[1])).isNotEqualTo(grads.toArray(0, OFF[1]));
  }

  /** Every path into unit i of node n, walked back op by op from the declared slices; Σ (max for p = ∞) of Π|w|^p. */
  static double paths(Graph g, int n, int i, double prod, double p) {
    if (n == 0) {
      return prod;
    }
    Op op = g.ops().get(n - 1);
    int[] in = op.inputs();
    boolean inf = Double.isInfinite(p);
    FloatBufferOps w = new FloatBufferOps(g.params());
    double s = 0;
    switch (op.kind()) {
      case "dense" -> {
        ParamSlice wt = op.params().get(0);
        double b = Math.abs(w.t().get(op.params().get(1).offset() + i));
        s = prod * (inf ? b : Math.pow(b, p)); // the path from the bias source
        for (int u = 0; u < wt.fanIn(); u++) {
          double a = Math.abs(w.t().get(wt.offset() + i * wt.fanIn() + u));
          double q = paths(g, in[0], u, prod * (inf ? a : Math.pow(a, p)), p);
          s = inf ? Math.max(s, q) : s + q;
        }
      }
      case "add" -> {
        double a = paths(g, in[0], i, prod, p);
        double c = paths(g, in[1], i, prod, p);
        s = inf ? Math.max(a, c) : a + c;
      }
      case "relu" -> s = paths(g, in[0], i, prod, p);
      default -> throw new AssertionError(op.kind());
    }
    return s;
  }

  @Test
  void theDiamondsPhiIsTheSumOverEveryPathEnumerated() {
    for (long seed = 1; seed <= 3; seed++) {
      Graph g = diamond(seed);
      int last = g.ops().size();
      for (double p : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
        double s = 0;
        for (int o = 0; o < g.outputs(); o++) {
          double q = paths(g, last, o, 1, p);
          s = Double.isInfinite(p) ? Math.max(s, q) : s + q;
        }
        double brute = Double.isInfinite(p) || p == 1 ? s : Math.pow(s, 1 / p);
        assertThat(PathNorms.phi(g, g.params(), p, true)).as("seed %d, p %s", seed, p)
            .isCloseTo(brute, within(1e-9 * brute));
      }
    }
  }
}
