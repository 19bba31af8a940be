package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.nn.FoldedStep;
import io.github.pathsgd.core.nn.NetLayout;
import io.github.pathsgd.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Transforms applied in order (optax's {@code chain}); its state holds one child state per transform. A chain whose
 * transforms are all {@link Foldable} is foldable itself ({@link Chain.Folding}): {@link Transforms#chain} picks the
 * class. {@link Transforms#identity()} parts are dropped when the chain is built, so the child indices (and the
 * checkpoint keys) do not depend on them.
 */
public class Chain implements GradientTransform<Chain.State> {
  final List<GradientTransform<?>> parts;

  Chain(List<GradientTransform<?>> parts) {
    this.parts = List.copyOf(parts);
  }

  /** The chain of {@code ts} without its identities; foldable when every remaining part is. */
  static Chain of(GradientTransform<?>... ts) {
    List<GradientTransform<?>> list = new ArrayList<>();
    boolean foldable = true;
    for (GradientTransform<?> t : ts) {
      if (t instanceof Transforms.Identity) {
        continue;
      }
      list.add(t);
      foldable &= t instanceof Foldable<?>;
    }
    return foldable ? new Folding(list) : new Chain(list);
  }

  /** The transforms, in order. */
  public List<GradientTransform<?>> parts() {
    return parts;
  }

  @Override
  public State init(NetLayout layout) {
    State s = new State(layout);
    for (GradientTransform<?> t : parts) {
      s.children.add(t.init(layout));
    }
    return s;
  }

  @Override
  public void update(Tensor updates, State state, Tensor params) {
    for (int i = 0; i < parts.size(); i++) {
      parts.get(i).updateUnchecked(updates, state.children.get(i), params);
    }
    state.advance();
  }

  @Override
  public String describe() {
    List<String> s = new ArrayList<>();
    for (GradientTransform<?> t : parts) {
      s.add(t.describe());
    }
    return String.join(" → ", s);
  }

  /** A chain of {@link Foldable} transforms: folded when every part agrees, in order. */
  public static final class Folding extends Chain implements Foldable<State> {
    Folding(List<GradientTransform<?>> parts) {
      super(parts);
    }

    @Override
    public boolean preparesOnParameters() {
      for (GradientTransform<?> t : parts) {
        if (((Foldable<?>) t).preparesOnParameters()) {
          return true;
        }
      }
      return false;
    }

    @Override
    public boolean prepare(State state, Tensor params, FoldedStep f) {
      for (int i = 0; i < parts.size(); i++) {
        if (!((Foldable<?>) parts.get(i)).prepareUnchecked(state.children.get(i), params, f)) {
          return false;
        }
      }
      return true;
    }

    @Override
    public void commit(State state) {
      for (int i = 0; i < parts.size(); i++) {
        ((Foldable<?>) parts.get(i)).commitUnchecked(state.children.get(i));
      }
      state.advance();
    }
  }

  /** The children's states, in order, and the chain's own count. */
  public static final class State extends BaseState {
    final List<OptState> children = new ArrayList<>();

    State(NetLayout layout) {
      super(layout);
    }

    @Override
    public List<OptState> children() {
      return java.util.Collections.unmodifiableList(children);
    }

    /**
     * Walks the children in order; once past a state that {@link OptState#normalizes()}, the later ones see the
     * rescaling {@link UnitRescaling#afterNormalization()} (downstream of Path-SGD a momentum buffer holds g⊘κ and
     * transforms like the weights).
     */
    @Override
    public void rescale(UnitRescaling r) {
      UnitRescaling cur = r;
      for (OptState c : children) {
        c.rescale(cur);
        if (c.normalizes()) {
          cur = cur.afterNormalization();
        }
      }
    }

    @Override
    public boolean normalizes() {
      for (OptState c : children) {
        if (c.normalizes()) {
          return true;
        }
      }
      return false;
    }

    @Override
    public long clamped() {
      long n = 0;
      for (OptState c : children) {
        n += c.clamped();
      }
      return n;
    }
  }
}
