package io.github.pathsgd.core.optim;

import io.github.pathsgd.core.nn.ParamLayout;
import io.github.pathsgd.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The explicit state of a {@link GradientTransform}: named parameter-shaped buffers, a step count, named scalars (for
 * statistics a transform reports, such as how many κ were clamped), and the states of child transforms (for a chain).
 *
 * <p>{@link #export()} flattens everything to plain arrays for a checkpoint, and {@link #restore(Map)} puts them back
 * into a state freshly made by the same transform.
 */
public final class OptState {
  private final ParamLayout layout;
  private final Map<String, Tensor> buffers = new LinkedHashMap<>();
  private final Map<String, Double> scalars = new LinkedHashMap<>();
  private final List<OptState> children = new ArrayList<>();
  private long count;
  private Object scratch;

  public OptState(ParamLayout layout) {
    this.layout = layout;
  }

  public ParamLayout layout() {
    return layout;
  }

  /** Adds a zero buffer of the parameter size under {@code name} and returns it. */
  public Tensor addBuffer(String name) {
    return addBuffer(name, new Tensor(layout.size()));
  }

  /** Adds a buffer under {@code name} and returns it. */
  public Tensor addBuffer(String name, Tensor t) {
    buffers.put(name, t);
    return t;
  }

  public Tensor buffer(String name) {
    Tensor t = buffers.get(name);
    if (t == null) {
      throw new IllegalArgumentException("no optimizer buffer named '" + name + "'; have " + buffers.keySet());
    }
    return t;
  }

  public Map<String, Tensor> buffers() {
    return Collections.unmodifiableMap(buffers);
  }

  public void setScalar(String name, double v) {
    scalars.put(name, v);
  }

  public double scalar(String name, double dflt) {
    return scalars.getOrDefault(name, dflt);
  }

  public Map<String, Double> scalars() {
    return Collections.unmodifiableMap(scalars);
  }

  public OptState addChild(OptState s) {
    children.add(s);
    return s;
  }

  public List<OptState> children() {
    return Collections.unmodifiableList(children);
  }

  /**
   * Transient working memory a transform keeps with its state (preallocated scratch, so that {@code update} does not
   * allocate). It is never exported, restored or rescaled; a transform must be able to rebuild it at any time.
   */
  public Object scratch() {
    return scratch;
  }

  /** Sets the transient working memory; see {@link #scratch()}. */
  public void setScratch(Object s) {
    this.scratch = s;
  }

  /** The number of updates applied so far. */
  public long count() {
    return count;
  }

  public void incrementCount() {
    count++;
  }

  /**
   * All buffers, scalars and counts as {@code path -> float[]} (scalars and counts as one-element double arrays
   * encoded in a {@code double[]}). Paths look like {@code "1.momentum"}, {@code "1#count"}, {@code "0$clamped"}.
   */
  public Map<String, Object> export() {
    Map<String, Object> out = new LinkedHashMap<>();
    export("", out);
    return out;
  }

  private void export(String prefix, Map<String, Object> out) {
    out.put(prefix + "#count", new double[] {count});
    for (var e : scalars.entrySet()) {
      out.put(prefix + "$" + e.getKey(), new double[] {e.getValue()});
    }
    for (var e : buffers.entrySet()) {
      out.put(prefix + e.getKey(), e.getValue().toArray());
    }
    for (int i = 0; i < children.size(); i++) {
      children.get(i).export(prefix + i + ".", out);
    }
  }

  /** Restores what {@link #export()} produced, into a state of the same structure. */
  public void restore(Map<String, Object> saved) {
    restore("", saved);
  }

  private void restore(String prefix, Map<String, Object> saved) {
    Object c = saved.get(prefix + "#count");
    if (c == null) {
      throw new IllegalArgumentException("optimizer checkpoint lacks '" + prefix + "#count'");
    }
    count = (long) ((double[]) c)[0];
    for (var e : saved.entrySet()) {
      String k = e.getKey();
      if (k.startsWith(prefix + "$") && k.indexOf('.', prefix.length()) < 0) {
        scalars.put(k.substring(prefix.length() + 1), ((double[]) e.getValue())[0]);
      }
    }
    for (var e : buffers.entrySet()) {
      Object v = saved.get(prefix + e.getKey());
      if (!(v instanceof float[] a) || a.length != e.getValue().size()) {
        throw new IllegalArgumentException("optimizer checkpoint: buffer '" + prefix + e.getKey()
            + "' missing or of the wrong size (expected " + e.getValue().size() + " floats)");
      }
      e.getValue().copyFrom(a, 0, 0, a.length);
    }
    for (int i = 0; i < children.size(); i++) {
      children.get(i).restore(prefix + i + ".", saved);
    }
  }
}
