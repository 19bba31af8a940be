package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.nn.FoldedStep;
import io.github.pathsgd.core.nn.NetLayout;
import io.github.pathsgd.core.tensor.Tensor;
import java.nio.FloatBuffer;

/** The elementary {@link GradientTransform}s (optax's {@code transform.py}) and their composition. */
public final class Transforms {
  private Transforms() {}

  /** Applies the transforms in order, identities dropped; foldable when every part is ({@link Chain}). */
  public static Chain chain(GradientTransform<?>... ts) {
    return Chain.of(ts);
  }

  /** {@code u ← u}: dropped by {@link #chain}; alone, a foldable no-op with a step count. */
  public static GradientTransform<CountState> identity() {
    return Identity.INSTANCE;
  }

  /** {@code u ← s·u} (s rounded to float). Stateless but for the step count; foldable (α ← α·s). */
  public static GradientTransform<CountState> scale(double s) {
    return new Scale(s);
  }

  /**
   * Heavy-ball momentum in PyTorch's convention (Sutskever et al., ICML 2013, as implemented by {@code torch.optim.SGD}
   * with dampening 0): {@code v ← μ·v + u}, then {@code u ← v}, or with Nesterov {@code u ← u + μ·v}. The buffer v
   * starts at zero, so the first step is the plain update. Followed by {@code scale(-lr)} this is exactly
   * {@code torch.optim.SGD(lr, momentum=μ, nesterov=...)}; the learning rate multiplies the whole buffer, so changing
   * it mid-run differs from Sutskever's {@code v ← μ·v + lr·g}.
   *
   * <p>State: {@link TraceState}, buffer {@code momentum}, which transforms like a gradient under node-wise rescaling.
   */
  public static GradientTransform<TraceState> trace(double mu, boolean nesterov) {
    if (!(mu >= 0 && mu < 1)) {
      throw new IllegalArgumentException("momentum must be in [0, 1), got " + mu);
    }
    float m = (float) mu;
    return new GradientTransform<>() {
      @Override
      public TraceState init(NetLayout layout) {
        return new TraceState(layout);
      }

      @Override
      public void update(Tensor u, TraceState state, Tensor params) {
        FloatBuffer ub = u.buffer();
        FloatBuffer vb = state.momentum.buffer();
        for (int i = 0, n = u.size(); i < n; i++) {
          float g = ub.get(i);
          float v = m * vb.get(i) + g;
          vb.put(i, v);
          ub.put(i, nesterov ? g + m * v : v);
        }
        state.advance();
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
   * <p>State: {@link RssState}, buffer {@code sum_sq}, which transforms like a squared gradient under node-wise
   * rescaling. AdaGrad is not rescaling invariant.
   */
  public static GradientTransform<RssState> scaleByRss(double eps, double initialAccumulator) {
    if (!(eps >= 0) || !(initialAccumulator >= 0)) {
      throw new IllegalArgumentException("AdaGrad needs eps >= 0 and initial accumulator >= 0, got " + eps + ", "
          + initialAccumulator);
    }
    float e = (float) eps;
    float g0 = (float) initialAccumulator;
    return new GradientTransform<>() {
      @Override
      public RssState init(NetLayout layout) {
        RssState s = new RssState(layout);
        if (g0 != 0f) {
          s.sumSq.fill(g0);
        }
        return s;
      }

      @Override
      public void update(Tensor u, RssState state, Tensor params) {
        FloatBuffer ub = u.buffer();
        FloatBuffer ab = state.sumSq.buffer();
        for (int i = 0, n = u.size(); i < n; i++) {
          float g = ub.get(i);
          float a = ab.get(i) + g * g;
          ab.put(i, a);
          ub.put(i, g / ((float) Math.sqrt(a) + e));
        }
        state.advance();
      }

      @Override
      public String describe() {
        return "scale_by_rss(eps=" + eps + ", initial_accumulator=" + initialAccumulator + ")";
      }
    };
  }

  /** The state of a transform with no buffers: the step count only; nothing to rescale. */
  public static final class CountState extends BaseState {
    CountState(NetLayout layout) {
      super(layout);
    }

    @Override
    public void rescale(UnitRescaling r) {}
  }

  /** Momentum's state: the trace v (checkpoint buffer {@code momentum}), a gradient-like buffer. */
  public static final class TraceState extends BaseState {
    final Tensor momentum;

    TraceState(NetLayout layout) {
      super(layout);
      momentum = new Tensor(layout.size());
    }

    public Tensor momentum() {
      return momentum;
    }

    @Override
    public void rescale(UnitRescaling r) {
      r.gradientLike(momentum);
    }

    @Override
    protected void writeBuffers(String prefix, java.util.Map<String, Object> out) {
      buffer(out, prefix, "momentum", momentum);
    }

    @Override
    protected void readBuffers(String prefix, java.util.Map<String, Object> saved) {
      readBuffer(saved, prefix, "momentum", momentum);
    }
  }

  /** AdaGrad's state: the sum of squares G (checkpoint buffer {@code sum_sq}), a squared-gradient-like buffer. */
  public static final class RssState extends BaseState {
    final Tensor sumSq;

    RssState(NetLayout layout) {
      super(layout);
      sumSq = new Tensor(layout.size());
    }

    public Tensor sumSq() {
      return sumSq;
    }

    @Override
    public void rescale(UnitRescaling r) {
      r.squaredGradientLike(sumSq);
    }

    @Override
    protected void writeBuffers(String prefix, java.util.Map<String, Object> out) {
      buffer(out, prefix, "sum_sq", sumSq);
    }

    @Override
    protected void readBuffers(String prefix, java.util.Map<String, Object> saved) {
      readBuffer(saved, prefix, "sum_sq", sumSq);
    }
  }

  static final class Identity implements GradientTransform<CountState>, Foldable<CountState> {
    static final Identity INSTANCE = new Identity();

    @Override
    public CountState init(NetLayout layout) {
      return new CountState(layout);
    }

    @Override
    public void update(Tensor u, CountState state, Tensor params) {
      state.advance();
    }

    @Override
    public boolean prepare(CountState state, Tensor params, FoldedStep f) {
      return true;
    }

    @Override
    public void commit(CountState state) {
      state.advance();
    }

    @Override
    public String describe() {
      return "identity";
    }
  }

  static final class Scale implements GradientTransform<CountState>, Foldable<CountState> {
    private final double s;
    private final float f;

    Scale(double s) {
      this.s = s;
      this.f = (float) s;
    }

    @Override
    public CountState init(NetLayout layout) {
      return new CountState(layout);
    }

    @Override
    public void update(Tensor u, CountState state, Tensor params) {
      FloatBuffer ub = u.buffer();
      for (int i = 0, n = u.size(); i < n; i++) {
        ub.put(i, ub.get(i) * f);
      }
      state.advance();
    }

    @Override
    public boolean prepare(CountState state, Tensor params, FoldedStep fold) {
      fold.scale(s);
      return true;
    }

    @Override
    public void commit(CountState state) {
      state.advance();
    }

    @Override
    public String describe() {
      return "scale(" + s + ")";
    }
  }
}
