package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.geometry.Kappa;
import io.github.pathsgd.core.geometry.KappaWorkspace;
import io.github.pathsgd.core.geometry.LayerKappa;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.FoldedStep;
import io.github.pathsgd.core.nn.NetLayout;
import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * Path-SGD's path normalization (Neyshabur, Salakhutdinov and Srebro, "Path-SGD: Path-Normalized Optimization in Deep
 * Neural Networks", NIPS 2015, §4, Algorithm 1; chapter arXiv:1705.03071):
 *
 * <pre>
 *   u_e ← u_e / max(κ_e, floor)
 * </pre>
 *
 * with κ_e the path scale of coordinate e ({@link Kappa} states the formula) over |w|^p of the current parameters. Followed by {@code scale(-η)} this is w ←
 * w − η·∇L ⊘ κ, the coordinate-wise steepest descent step w.r.t. the ℓp path regularizer; for p = 2, κ is exactly the
 * diagonal of the Hessian of ½φ_2(w)². The step is exactly invariant under node-wise rescaling (docs/paper-spec.md
 * §2.8), also with momentum after it. κ(W_l) = outer(κ_out(l), κ_in(l)) has rank one, so the division is a row and a
 * column scale, and the transform is {@link Foldable}; {@link Kappa} computes the factors (its numerics and range
 * handling are documented there), {@link io.github.pathsgd.core.nn.RankOne#divide} divides. κ is recomputed every
 * {@link PathSgdOptions#recomputeEvery()} steps and always before the first; the update does not allocate. An instance
 * may serve several states; a state must be updated by one thread at a time. See {@link PathSgdOptions} for the floor
 * (state statistic {@link OptState#clamped()}) and the "ratio" option.
 */
public final class PathNormalize implements GradientTransform<PathNormalizeState>, Foldable<PathNormalizeState> {
  private final PathSgdOptions opt;
  private final Kappa kappa;

  private PathNormalize(PathSgdOptions opt) {
    this.opt = opt;
    this.kappa = new Kappa(opt.p(), opt.includeBiases(), opt.sweep() == PathSgdOptions.Sweep.AUTO,
        opt.absoluteFloor(), opt.relativeFloor());
  }

  /** The Path-SGD normalization u ← u ⊘ κ(params). */
  public static PathNormalize of(PathSgdOptions options) {
    return new PathNormalize(options);
  }

  /** The Path-SGD normalization with the defaults of {@link PathSgdOptions#DEFAULT} and exponent p. */
  public static PathNormalize of(double p) {
    return new PathNormalize(PathSgdOptions.ofP(p));
  }

  public PathSgdOptions options() {
    return opt;
  }

  @Override
  public PathNormalizeState init(NetLayout layout) {
    // κ's form comes with the layout: rank one per layer on a chain of dense layers (Kappa), else per parameter
    DenseChain chain = layout.denseChain();
    return chain == null ? new PathNormalizeState(layout) : new PathNormalizeState(layout, kappa.workspace(chain));
  }

  @Override
  public void update(Tensor updates, PathNormalizeState s, Tensor params) {
    NetLayout lay = s.layout();
    if (updates.size() != lay.size() || params.size() != lay.size()) {
      throw new IllegalArgumentException("Path-SGD: updates/params of " + updates.size() + "/" + params.size()
          + " floats do not match layout " + lay);
    }
    if (s.layered()) {
      updateLayered(updates, s, params);
      return;
    }
    KappaWorkspace sc = refresh(s, params);
    FloatBuffer ub = updates.buffer();
    double sumG2 = 0;
    boolean firstRatio = opt.ratio() && Double.isNaN(s.ratio);
    if (firstRatio) {
      sumG2 = sumSquares(ub, updates.size());
    }
    s.clamped = Kappa.divide(sc, ub, s.floor);
    if (opt.ratio()) {
      if (firstRatio) {
        double d2 = sumSquares(ub, updates.size());
        s.ratio(d2 > 0 ? Math.sqrt(sumG2 / d2) : 1.0);
      }
      float r = (float) (s.ratio); // the stored ratio (present once set)
      for (int i = 0, n = updates.size(); i < n; i++) {
        ub.put(i, ub.get(i) * r);
      }
    }
    s.advance();
  }

  /**
   * Brings κ up to date exactly as {@link #update} would and puts 1/κ_out, 1/κ_in of every layer into the fold's row
   * and column scales, in double (they need not be representable in float; their product for every weight is).
   * Refuses (false) when the folded form would differ from {@link #update}: some coordinate needs the κ floor or cannot
   * be represented, or the ratio option is on.
   */
  @Override
  public boolean prepare(PathNormalizeState s, Tensor params, FoldedStep f) {
    if (opt.ratio() || s.layered()) {
      return false;
    }
    KappaWorkspace sc = refresh(s, params);
    if (!Kappa.allRegular(sc)) {
      return false;
    }
    for (int l = 0, L = s.chain.layers(); l < L; l++) {
      Kappa.inverses(sc, l, f.rowScale(l), f.colScale(l));
    }
    f.markScaled();
    s.clamped = 0;
    return true;
  }

  @Override
  public boolean preparesOnParameters() {
    return true;
  }

  @Override
  public void commit(PathNormalizeState s) {
    s.advance();
  }

  /** The workspace after recomputing κ when this step is due, or loading the stored factors when it is not. */
  private KappaWorkspace refresh(PathNormalizeState s, Tensor params) {
    KappaWorkspace sc = s.workspace;
    if (s.count() % opt.recomputeEvery() == 0 || Double.isNaN(s.floor)) {
      s.store(sc, kappa.compute(s.chain, params, sc));
    } else {
      // the stored factors, which a restore or a rescaling of the state may have changed since the last step
      Kappa.load(s.kappaIn.buffer(), s.kappaInExp.buffer(), s.kappaOut.buffer(), s.kappaOutExp.buffer(), sc);
    }
    Kappa.ranges(sc, s.floor);
    return sc;
  }

  /**
   * The step of a network of layers: κ of every parameter from {@link LayerKappa} (recomputed when due, else the
   * stored κ), the floor max(absoluteFloor, relativeFloor·κ_max) set at each recomputation, then u ← u / κ in double.
   * A coordinate whose κ is below the floor is divided by the floor; one whose κ is 0 after it, or whose quotient is
   * not finite, gets no update; both count in {@link OptState#clamped()}.
   */
  private void updateLayered(Tensor updates, PathNormalizeState s, Tensor params) {
    int n = updates.size();
    FloatBuffer km = s.kappa.buffer();
    FloatBuffer ke = s.kappaExp.buffer();
    // κ as the step uses it: the stored form m·2^e (also when just recomputed, so that a step after a restore, which
    // reads the stored form, divides by exactly the same numbers), decoded into the workspace's double vector
    double[] k = s.layerWorkspace.kappa();
    if (s.count() % opt.recomputeEvery() == 0 || Double.isNaN(s.floor)) {
      LayerKappa.compute(s.layerWorkspace, params, opt.p(), opt.includeBiases());
      double max = 0;
      for (int i = 0; i < n; i++) {
        double v = Kappa.encode(k[i], km, ke, i);
        k[i] = v;
        if (v > max && v < Double.POSITIVE_INFINITY) {
          max = v;
        }
      }
      s.floor = Math.max(opt.absoluteFloor(), opt.relativeFloor() * max);
      s.markFloor();
    } else { // the stored factors, which a restore may have changed since the last recomputation
      for (int i = 0; i < n; i++) {
        k[i] = Kappa.decode(km, ke, i);
      }
    }
    FloatBuffer ub = updates.buffer();
    boolean firstRatio = opt.ratio() && Double.isNaN(s.ratio);
    double sumG2 = firstRatio ? sumSquares(ub, n) : 0;
    long clamped = 0;
    double floor = s.floor;
    for (int i = 0; i < n; i++) {
      double ki = k[i];
      boolean floored = ki < floor;
      if (floored) {
        ki = floor;
      }
      float f = (float) (ub.get(i) / ki);
      boolean lost = !(ki > 0) || !Float.isFinite(f);
      if (lost) {
        f = 0f;
      }
      if (floored || lost) {
        clamped++;
      }
      ub.put(i, f);
    }
    s.clamped = clamped;
    if (opt.ratio()) {
      if (firstRatio) {
        double d2 = sumSquares(ub, n);
        s.ratio(d2 > 0 ? Math.sqrt(sumG2 / d2) : 1.0);
      }
      float r = (float) s.ratio;
      for (int i = 0; i < n; i++) {
        ub.put(i, ub.get(i) * r);
      }
    }
    s.advance();
  }

  private static double sumSquares(FloatBuffer b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      double v = b.get(i);
      s += v * v;
    }
    return s;
  }

  @Override
  public String describe() {
    return "path_normalize(" + opt.describe() + ")";
  }
}
