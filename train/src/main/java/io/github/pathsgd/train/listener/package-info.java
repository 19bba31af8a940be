/** Hooks into the training loop and the loop's own rules as listeners: divergence, stop rules, checkpoints. Imports history and checkpoint. */
package io.github.pathsgd.train.listener;
