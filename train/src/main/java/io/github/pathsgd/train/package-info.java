/** The training loop ({@link io.github.pathsgd.train.Trainer}); imports the other packages of this module, core and data. */
package io.github.pathsgd.train;
