/**
 * Data sets: the registry ({@link io.github.pathsgd.data.Datasets}: names, where files are looked for, load, split,
 * preprocess), strict readers for MNIST/Fashion-MNIST (IDX), CIFAR-10/100 (binary), SVHN (.mat), a user's NumPy
 * files ({@link io.github.pathsgd.data.NumpyDatasets}) and image folders ({@link io.github.pathsgd.data.ImageFolders}),
 * bounded reads of regular files only, checksums, and resampling (validation split, per-class subsets). Every error is
 * a {@link io.github.pathsgd.data.DataException} naming the file and what was expected. Imports no other module.
 */
package io.github.pathsgd.data;
