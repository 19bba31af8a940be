package io.github.pathsgd.djl;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.pooling.Pool;

/**
 * Pooling blocks whose window {@link DjlNetwork} can read: DJL's own {@code Pool.maxPool2dBlock} and {@code
 * avgPool2dBlock} are lambdas that keep their window and stride to themselves, so a model meant for Path-SGD builds its
 * pooling here. Each computes exactly DJL's pooling (no padding, floor mode).
 */
public final class PathSgdBlocks {
  private PathSgdBlocks() {}

  /** Max pooling over k×k windows with stride s: DJL's {@code Pool.maxPool2d(x, (k,k), (s,s), (0,0), false)}. */
  public static Block maxPool2d(int k, int stride) {
    check(k, stride);
    return new PoolBlock(true, k, stride);
  }

  /** Average pooling over k×k windows with stride s: DJL's {@code Pool.avgPool2d} without padding. */
  public static Block avgPool2d(int k, int stride) {
    check(k, stride);
    return new PoolBlock(false, k, stride);
  }

  private static void check(int k, int stride) {
    if (k < 1 || stride < 1) {
      throw new IllegalArgumentException("pooling: window " + k + " and stride " + stride + " must be positive");
    }
  }

  /** A pooling lambda that keeps its window and stride. */
  static final class PoolBlock extends LambdaBlock {
    final boolean max;
    final int k;
    final int stride;

    PoolBlock(boolean max, int k, int stride) {
      super(in -> new ai.djl.ndarray.NDList(max
          ? Pool.maxPool2d(in.singletonOrThrow(), new Shape(k, k), new Shape(stride, stride), new Shape(0, 0), false)
          : Pool.avgPool2d(in.singletonOrThrow(), new Shape(k, k), new Shape(stride, stride), new Shape(0, 0), false,
              true)), (max ? "maxPool2d(" : "avgPool2d(") + k + ",stride=" + stride + ")");
      this.max = max;
      this.k = k;
      this.stride = stride;
    }
  }
}
