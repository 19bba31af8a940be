package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.nn.NetLayout;
import io.github.pathsgd.core.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The common part of the states: the layout, the step count, and the checkpoint form of {@link OptState#export()} in
 * its fixed order ({@code #count}, the scalars, the buffers, the children). A subclass names its scalars and buffers
 * ({@link #writeScalars}, {@link #readScalar}, {@link #writeBuffers}, {@link #readBuffers}). A scalar in a checkpoint
 * that the state does not know is kept and written back, after the known ones.
 */
public abstract class BaseState implements OptState {
  private final NetLayout layout;
  long count;
  private final Map<String, Double> extra = new LinkedHashMap<>();

  protected BaseState(NetLayout layout) {
    this.layout = layout;
  }

  @Override
  public final NetLayout layout() {
    return layout;
  }

  @Override
  public final long count() {
    return count;
  }

  /** count ← count + 1. */
  public final void advance() {
    count++;
  }

  /** The known scalars, in order, as {@code prefix + "$" + name -> double[1]}. */
  protected void writeScalars(String prefix, Map<String, Object> out) {}

  /** Takes a known scalar from a checkpoint; false if the name is not one of this state's. */
  protected boolean readScalar(String name, double value) {
    return false;
  }

  /** The buffers, in order, as {@code prefix + name -> float[]}. */
  protected void writeBuffers(String prefix, Map<String, Object> out) {}

  /** Reads the buffers back ({@link #readBuffer}). */
  protected void readBuffers(String prefix, Map<String, Object> saved) {}

  /** The child states (a chain's), exported under {@code prefix + i + "."}. */
  protected java.util.List<? extends OptState> children() {
    return java.util.List.of();
  }

  protected static void scalar(Map<String, Object> out, String prefix, String name, double v) {
    out.put(prefix + "$" + name, new double[] {v});
  }

  protected static void buffer(Map<String, Object> out, String prefix, String name, Tensor t) {
    out.put(prefix + name, t.toArray());
  }

  /** Copies the saved buffer {@code prefix + name} into {@code t}; refuses one missing or of the wrong size. */
  protected static void readBuffer(Map<String, Object> saved, String prefix, String name, Tensor t) {
    Object v = saved.get(prefix + name);
    if (!(v instanceof float[] a) || a.length != t.size()) {
      throw new IllegalArgumentException("optimizer checkpoint: buffer '" + prefix + name
          + "' missing or of the wrong size (expected " + t.size() + " floats)");
    }
    t.copyFrom(a, 0, 0, a.length);
  }

  @Override
  public final void exportTo(String prefix, Map<String, Object> out) {
    out.put(prefix + "#count", new double[] {count});
    writeScalars(prefix, out);
    for (var e : extra.entrySet()) {
      scalar(out, prefix, e.getKey(), e.getValue());
    }
    writeBuffers(prefix, out);
    var cs = children();
    for (int i = 0; i < cs.size(); i++) {
      cs.get(i).exportTo(prefix + i + ".", out);
    }
  }

  @Override
  public final void restoreFrom(String prefix, Map<String, Object> saved) {
    Object c = saved.get(prefix + "#count");
    if (c == null) {
      throw new IllegalArgumentException("optimizer checkpoint lacks '" + prefix + "#count'");
    }
    count = (long) ((double[]) c)[0];
    for (var e : saved.entrySet()) {
      String k = e.getKey();
      if (k.startsWith(prefix + "$") && k.indexOf('.', prefix.length()) < 0) {
        String name = k.substring(prefix.length() + 1);
        double v = ((double[]) e.getValue())[0];
        if (!readScalar(name, v)) {
          extra.put(name, v);
        }
      }
    }
    readBuffers(prefix, saved);
    var cs = children();
    for (int i = 0; i < cs.size(); i++) {
      cs.get(i).restoreFrom(prefix + i + ".", saved);
    }
  }
}
