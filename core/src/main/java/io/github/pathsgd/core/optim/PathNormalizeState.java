package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.geometry.Kappa;
import io.github.pathsgd.core.geometry.KappaWorkspace;
import io.github.pathsgd.core.geometry.LayerKappa;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.NetLayout;
import io.github.pathsgd.core.tensor.Tensor;
import java.util.Map;

/**
 * The state of {@link PathNormalize}: κ's rank-one factors as of the last recomputation, stored as float mantissas
 * and integer exponents (κ = m·2^e, {@link Kappa#encode}); the κ floor set with them; the clamp count of the last
 * step; the "ratio" once computed; and the step count. Checkpoint entries, in this order: {@code #count}, {@code
 * $clamped}, {@code $kappa_floor}, {@code $kappa_double_layers} (once κ was computed), {@code $ratio} (once set),
 * buffers {@code kappa_in}, {@code kappa_in_exp} (Σ_{l&lt;L} n_l: layer l at {@link Kappa#inOffset}), {@code
 * kappa_out}, {@code kappa_out_exp} (Σ_{l&lt;L} n_{l+1}, at {@link Kappa#outOffset}).
 *
 * <p>Under ρ_{c,v}: κ_in(v) ×c², κ_out(v) ×1/c², in double ({@link UnitRescaling#kappaFactors}); the updates after a
 * Path-SGD normalization transform like the weights ({@link #normalizes()}).
 *
 * <p>For a network of layers ({@link NetLayout} without a dense chain: convolutions, pooling) κ has no rank-one form; the state then keeps
 * κ of every parameter (buffers {@code kappa}, {@code kappa_exp}, parameter layout, m·2^e as above) in place of the
 * four factor buffers, computed by {@link LayerKappa}. Such a state is never folded; under a channel rescaling its κ
 * scales per parameter ({@link UnitRescaling#kappaPerParameter}).
 */
public final class PathNormalizeState extends BaseState {
  final Tensor kappaIn;
  final Tensor kappaInExp;
  final Tensor kappaOut;
  final Tensor kappaOutExp;
  long clamped;
  double floor = Double.NaN;
  private boolean hasFloor;
  double doubleLayers;
  private boolean hasDoubleLayers;
  double ratio = Double.NaN;
  private boolean hasRatio;
  final KappaWorkspace workspace; // transient: never exported, restored or rescaled
  final Tensor kappa; // layer networks only: κ of every parameter (mantissas), else null
  final Tensor kappaExp;
  final LayerKappa.Workspace layerWorkspace; // transient, layer networks only
  final DenseChain chain; // a chain of dense layers: the rank-one factors' shapes; null for per-parameter κ

  PathNormalizeState(NetLayout layout) {
    super(layout);
    chain = null;
    kappaIn = null;
    kappaInExp = null;
    kappaOut = null;
    kappaOutExp = null;
    workspace = null;
    kappa = new Tensor(layout.size());
    kappaExp = new Tensor(layout.size());
    layerWorkspace = new LayerKappa.Workspace(layout.sequence(), layout.size());
  }

  /** Whether this is the state of a network of layers (per-parameter κ, never folded). */
  boolean layered() {
    return kappa != null;
  }

  /** κ of parameter i (a network of layers), m·2^e. */
  public double kappa(int i) {
    return Kappa.decode(kappa.buffer(), kappaExp.buffer(), i);
  }

  PathNormalizeState(NetLayout net, KappaWorkspace workspace) {
    super(net);
    DenseChain layout = net.denseChain();
    chain = layout;
    kappa = null;
    kappaExp = null;
    layerWorkspace = null;
    int L = layout.layers();
    kappaIn = new Tensor(Kappa.inOffset(layout, L));
    for (int i = 0; i < layout.inputs(); i++) {
      kappaIn.set(i, 1f); // κ_in of an input unit is 1^{2/p} = 1 (mantissa 1, exponent 0), and stays 1
    }
    kappaInExp = new Tensor(Kappa.inOffset(layout, L));
    kappaOut = new Tensor(Kappa.outOffset(layout, L));
    kappaOutExp = new Tensor(Kappa.outOffset(layout, L));
    this.workspace = workspace;
  }

  /** Stores the factors and statistics the workspace holds after {@link Kappa#compute}, with the floor. */
  void store(KappaWorkspace sc, double newFloor) {
    int n0 = chain.inputs();
    float[] mIn = sc.mantissasIn();
    kappaIn.buffer().put(n0, mIn, n0, mIn.length - n0);
    kappaInExp.buffer().put(n0, sc.exponentsIn(), n0, mIn.length - n0);
    kappaOut.buffer().put(0, sc.mantissasOut());
    kappaOutExp.buffer().put(0, sc.exponentsOut());
    floor = newFloor;
    hasFloor = true;
    doubleLayers = sc.doubleLayers();
    hasDoubleLayers = true;
  }

  void markFloor() {
    hasFloor = true;
  }

  void ratio(double r) {
    ratio = r;
    hasRatio = true;
  }

  /** κ_in of entry i (layer l's inputs from {@link Kappa#inOffset}), m·2^e. */
  public double kappaIn(int i) {
    return Kappa.decode(kappaIn.buffer(), kappaInExp.buffer(), i);
  }

  /** κ_out of entry i (layer l's outputs from {@link Kappa#outOffset}), m·2^e. */
  public double kappaOut(int i) {
    return Kappa.decode(kappaOut.buffer(), kappaOutExp.buffer(), i);
  }

  /** The κ floor of the last recomputation (NaN before the first). */
  public double floor() {
    return floor;
  }

  /** The reference code's global ratio (NaN until the first step with the ratio option). */
  public double ratio() {
    return ratio;
  }

  /** Layers whose p = 2 pass ran in double at the last recomputation. */
  public double doubleLayers() {
    return doubleLayers;
  }

  @Override
  public long clamped() {
    return clamped;
  }

  @Override
  public boolean normalizes() {
    return true;
  }

  @Override
  public void rescale(UnitRescaling r) {
    if (layered()) {
      r.kappaPerParameter(kappa, kappaExp);
      return;
    }
    r.kappaFactors(kappaIn, kappaInExp, kappaOut, kappaOutExp);
  }

  @Override
  protected void writeScalars(String prefix, Map<String, Object> out) {
    scalar(out, prefix, "clamped", clamped);
    if (hasFloor) {
      scalar(out, prefix, "kappa_floor", floor);
    }
    if (hasDoubleLayers) {
      scalar(out, prefix, "kappa_double_layers", doubleLayers);
    }
    if (hasRatio) {
      scalar(out, prefix, "ratio", ratio);
    }
  }

  @Override
  protected boolean readScalar(String name, double v) {
    switch (name) {
      case "clamped" -> clamped = (long) v;
      case "kappa_floor" -> {
        floor = v;
        hasFloor = true;
      }
      case "kappa_double_layers" -> {
        doubleLayers = v;
        hasDoubleLayers = true;
      }
      case "ratio" -> ratio(v);
      default -> {
        return false;
      }
    }
    return true;
  }

  @Override
  protected void writeBuffers(String prefix, Map<String, Object> out) {
    if (layered()) {
      buffer(out, prefix, "kappa", kappa);
      buffer(out, prefix, "kappa_exp", kappaExp);
      return;
    }
    buffer(out, prefix, "kappa_in", kappaIn);
    buffer(out, prefix, "kappa_in_exp", kappaInExp);
    buffer(out, prefix, "kappa_out", kappaOut);
    buffer(out, prefix, "kappa_out_exp", kappaOutExp);
  }

  @Override
  protected void readBuffers(String prefix, Map<String, Object> saved) {
    if (layered()) {
      readBuffer(saved, prefix, "kappa", kappa);
      readBuffer(saved, prefix, "kappa_exp", kappaExp);
      return;
    }
    readBuffer(saved, prefix, "kappa_in", kappaIn);
    readBuffer(saved, prefix, "kappa_in_exp", kappaInExp);
    readBuffer(saved, prefix, "kappa_out", kappaOut);
    readBuffer(saved, prefix, "kappa_out_exp", kappaOutExp);
  }
}
