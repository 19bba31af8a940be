package io.github.pathsgd.data;

import java.util.Map;

/**
 * The result of {@link Datasets#load}.
 *
 * @param train the training set minus the validation images (after preprocessing)
 * @param validation the validation images, or {@code null} when the validation size is 0
 * @param test the test set
 * @param provenance files read, SHA-256 of each, preprocessing and split rule (insertion-ordered, unmodifiable)
 */
public record DataSplits(Dataset train, Dataset validation, Dataset test, Map<String, String> provenance) {}
