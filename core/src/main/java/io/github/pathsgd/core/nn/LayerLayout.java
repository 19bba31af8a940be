package io.github.pathsgd.core.nn;

import java.util.List;

/**
 * The {@link NetLayout} of a {@link LayerNet}: its layers, in order, over one parameter vector of {@link #size()}
 * floats. Two layouts are equal when their layers have the same kinds, shapes and offsets ({@link #toString()}).
 */
public final class LayerLayout implements NetLayout {
  private final List<Layer> layers;
  private final int size;
  private final String text;

  LayerLayout(List<Layer> layers, int size) {
    this.layers = List.copyOf(layers);
    this.size = size;
    StringBuilder sb = new StringBuilder();
    for (Layer l : layers) {
      sb.append(sb.length() == 0 ? "" : ",").append(describe(l));
    }
    this.text = sb.toString();
  }

  /** A layer in words: its kind, in → out widths and parameter range. */
  private static String describe(Layer l) {
    return l.kind() + "[" + l.in() + "->" + l.out() + "@" + l.paramOffset() + "+" + l.paramSize() + "]";
  }

  /** The layers, in order. */
  public List<Layer> layers() {
    return layers;
  }

  @Override
  public List<Layer> sequence() {
    return layers;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LayerLayout l && l.size == size && l.text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  @Override
  public String toString() {
    return text;
  }
}
