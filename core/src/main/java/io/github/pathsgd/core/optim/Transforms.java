package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/** The elementary {@link GradientTransform}s and their composition. */
public final class Transforms {
  private Transforms() {}

  /** Applies the transforms in order; its state holds one child state per transform. */
  public static GradientTransform chain(GradientTransform... ts) {
    List<GradientTransform> list = List.of(ts);
    return new GradientTransform() {
      @Override
      public OptState init(ParamLayout layout) {
        OptState s = new OptState(layout);
        for (GradientTransform t : list) {
          s.addChild(t.init(layout));
        }
        return s;
      }

      @Override
      public void update(Tensor updates, OptState state, Tensor params) {
        for (int i = 0; i < list.size(); i++) {
          list.get(i).update(updates, state.children().get(i), params);
        }
        state.incrementCount();
      }

      @Override
      public String describe() {
        List<String> parts = new ArrayList<>();
        for (GradientTransform t : list) {
          parts.add(t.describe());
        }
        return String.join(" → ", parts);
      }
    };
  }

  /** {@code u ← s·u}. Stateless. */
  public static GradientTransform scale(double s) {
    float f = (float) s;
    return new GradientTransform() {
      @Override
      public OptState init(ParamLayout layout) {
        return new OptState(layout);
      }

      @Override
      public void update(Tensor u, OptState state, Tensor params) {
        FloatBuffer ub = u.buffer();
        for (int i = 0, n = u.size(); i < n; i++) {
          ub.put(i, ub.get(i) * f);
        }
        state.incrementCount();
      }

      @Override
      public String describe() {
        return "scale(" + s + ")";
      }
    };
  }

  /**
   * Heavy-ball momentum in PyTorch's convention (Sutskever et al., ICML 2013, as implemented by {@code torch.optim.SGD}
   * with dampening 0): {@code v ← μ·v + u}, then {@code u ← v}, or with Nesterov {@code u ← u + μ·v}. The buffer v
   * starts at zero, so the first step is the plain update. Followed by {@code scale(-lr)} this is exactly
   * {@code torch.optim.SGD(lr, momentum=μ, nesterov=...)}; the learning rate multiplies the whole buffer, so changing
   * it mid-run differs from Sutskever's {@code v ← μ·v + lr·g}.
   *
   * <p>State: buffer {@code momentum}, which transforms like a gradient under node-wise rescaling.
   */
  public static GradientTransform trace(double mu, boolean nesterov) {
    if (!(mu >= 0 && mu < 1)) {
      throw new IllegalArgumentException("momentum must be in [0, 1), got " + mu);
    }
    float m = (float) mu;
    return new GradientTransform() {
      @Override
      public OptState init(ParamLayout layout) {
        OptState s = new OptState(layout);
        s.addBuffer("momentum");
        return s;
      }

      @Override
      public void update(Tensor u, OptState state, Tensor params) {
        FloatBuffer ub = u.buffer();
        FloatBuffer vb = state.buffer("momentum").buffer();
        for (int i = 0, n = u.size(); i < n; i++) {
          float g = ub.get(i);
          float v = m * vb.get(i) + g;
          vb.put(i, v);
          ub.put(i, nesterov ? g + m * v : v);
        }
        state.incrementCount();
      }

      @Override
      public String describe() {
        return "trace(momentum=" + mu + (nesterov ? ", nesterov" : "") + ")";
      }
    };
  }

  /**
   * AdaGrad's per-coordinate scaling (Duchi, Hazan and Singer, JMLR 2011), in PyTorch's convention: {@code G ← G + u²},
   * then {@code u ← u / (sqrt(G) + ε)}. ε sits outside the square root; the accumulator G starts at {@code
   * initialAccumulator} (PyTorch's default 0; optax uses 0.1). Followed by {@code scale(-lr)} this is {@code
   * torch.optim.Adagrad(lr, eps=ε, initial_accumulator_value=G0, lr_decay=0)}.
   *
   * <p>State: buffer {@code sum_sq}, which transforms like a squared gradient under node-wise rescaling. AdaGrad is not
   * rescaling invariant.
   */
  public static GradientTransform scaleByRss(double eps, double initialAccumulator) {
    if (!(eps >= 0) || !(initialAccumulator >= 0)) {
      throw new IllegalArgumentException("AdaGrad needs eps >= 0 and initial accumulator >= 0, got " + eps + ", "
          + initialAccumulator);
    }
    float e = (float) eps;
    float g0 = (float) initialAccumulator;
    return new GradientTransform() {
      @Override
      public OptState init(ParamLayout layout) {
        OptState s = new OptState(layout);
        Tensor acc = s.addBuffer("sum_sq");
        if (g0 != 0f) {
          acc.fill(g0);
        }
        return s;
      }

      @Override
      public void update(Tensor u, OptState state, Tensor params) {
        FloatBuffer ub = u.buffer();
        FloatBuffer ab = state.buffer("sum_sq").buffer();
        for (int i = 0, n = u.size(); i < n; i++) {
          float g = ub.get(i);
          float a = ab.get(i) + g * g;
          ab.put(i, a);
          ub.put(i, g / ((float) Math.sqrt(a) + e));
        }
        state.incrementCount();
      }

      @Override
      public String describe() {
        return "scale_by_rss(eps=" + eps + ", initial_accumulator=" + initialAccumulator + ")";
      }
    };
  }
}
