package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Mlp;
import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.path.PathSgd;
import io.github.pathsgd.core.util.Rng;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;

/**
 * A {@link GradientTransform} that ends in {@code scale(-lr)}, together with the rule that applies its updates:
 * {@code θ ← θ + u}. Factories for the standard optimizers are in {@link Optimizers}.
 */
public final class Optimizer {
  private final String name;
  private final GradientTransform transform;
  private final double lr;
  private final Fusion fusion;
  private final PathSgd path;

  /** Whether a step can fold the update into the weight-gradient GEMMs ({@link Mlp#fusedStep}). */
  public enum Fusion {
    /** No: gradient, then transform, then update. */
    NONE,
    /** Plain SGD: {@code chain(scale(-lr))}. */
    SGD,
    /** Path-SGD without momentum: {@code chain(path_normalize, scale(-lr))}. */
    PATH
  }

  /** An optimizer whose steps are always unfused. */
  public Optimizer(String name, GradientTransform transform, double lr) {
    this(name, transform, lr, Fusion.NONE, null);
  }

  /** Plain SGD ({@code transform} must be {@code chain(scale(-lr))}): steps are fused. */
  static Optimizer fusedSgd(String name, GradientTransform transform, double lr) {
    return new Optimizer(name, transform, lr, Fusion.SGD, null);
  }

  /** Path-SGD without momentum ({@code transform} must be {@code chain(path, scale(-lr))}): steps are fused. */
  public Optimizer(String name, GradientTransform transform, double lr, PathSgd path) {
    this(name, transform, lr, Fusion.PATH, path);
  }

  private Optimizer(String name, GradientTransform transform, double lr, Fusion fusion, PathSgd path) {
    this.name = name;
    this.transform = transform;
    this.lr = lr;
    this.fusion = fusion;
    this.path = path;
  }

  public Fusion fusion() {
    return fusion;
  }

  public String name() {
    return name;
  }

  public GradientTransform transform() {
    return transform;
  }

  /** The step size η. */
  public double lr() {
    return lr;
  }

  public OptState init(ParamLayout layout) {
    return transform.init(layout);
  }

  /**
   * One step: transforms {@code grads} into updates in place (so {@code grads} is consumed), then adds them to
   * {@code params}.
   */
  public void step(Tensor params, Tensor grads, OptState state) {
    transform.update(grads, state, params);
    Blas.saxpy(params.size(), 1f, grads, 0, params, 0);
  }

  /**
   * One training step of {@code net} on the first B rows of the workspace input: the fused form ({@link
   * Mlp#fusedStep}) when this optimizer allows it, else {@link Mlp#lossAndGradient} into {@code grads} then {@link
   * #step}. Both give the same parameters up to float rounding, and both advance {@code state} the same way. A step
   * whose loss is not finite leaves the parameters untouched.
   */
  public Mlp.StepStats trainStep(Mlp net, Mlp.Workspace ws, int B, int[] labels, int yOff, Tensor grads,
      OptState state, Dropout dropout, Rng rng) {
    if (fusion == Fusion.SGD) {
      Mlp.StepStats st = net.fusedStep(ws, B, labels, yOff, dropout, rng, (float) lr, null, null);
      if (Double.isFinite(st.loss())) {
        advance(state);
      }
      return st;
    }
    if (fusion == Fusion.PATH) {
      double[][][] f = factors(state);
      OptState pathState = state.children().get(0);
      if (path.fusedFactors(pathState, net.params(), f[0], f[1])) {
        Mlp.StepStats st = net.fusedStep(ws, B, labels, yOff, dropout, rng, (float) lr, f[0], f[1],
            path.options().sweep() == io.github.pathsgd.core.path.PathSgdOptions.Sweep.DOUBLE);
        state.incrementCount();
        state.children().get(1).incrementCount();
        return st;
      }
    }
    Mlp.StepStats st = net.lossAndGradient(ws, B, labels, yOff, grads, dropout, rng);
    if (Double.isFinite(st.loss())) {
      step(net.params(), grads, state);
    }
    return st;
  }

  private static void advance(OptState s) {
    s.incrementCount();
    for (OptState c : s.children()) {
      advance(c);
    }
  }

  /** Per-layer inverse-κ factor tensors, kept as the chain state's scratch. */
  private static double[][][] factors(OptState state) {
    if (state.scratch() instanceof double[][][] f) {
      return f;
    }
    ParamLayout lay = state.layout();
    double[][][] f = new double[2][lay.layers()][];
    for (int l = 0; l < lay.layers(); l++) {
      f[0][l] = new double[lay.out(l)];
      f[1][l] = new double[lay.in(l)];
    }
    state.setScratch(f);
    return f;
  }

  @Override
  public String toString() {
    return name + ": " + transform.describe();
  }
}
