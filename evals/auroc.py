"""Separation of supported from hallucinated answers: AUROC and balanced accuracy.

AUROC is the chance that a random supported answer scores above a random
hallucinated one, computed from ranks (the Mann-Whitney U statistic) so that a
score tie counts half: a checker that gives everything the same score sits at 0.5,
not at 0 or 1. It needs no threshold, which is why it is the headline number; the
balanced accuracy says how the configured threshold does, and being the mean of the
two per-class hit rates, it is not flattered by a set with more of one label.

Labels are 1 (supported, the positive class) and 0 (hallucinated).
"""

from __future__ import annotations

from collections.abc import Sequence


def auroc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve of ``scores`` for ``labels``, ties counted half.

    Raises ValueError when the lengths differ, a label is not 0 or 1, or one of the
    two classes is missing (the area is undefined then).
    """
    positives, negatives = _class_sizes(scores, labels)
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        average_rank = (start + end) / 2 + 1  # ranks are 1-based; a tied run shares its mean
        for i in order[start : end + 1]:
            ranks[i] = average_rank
        start = end + 1
    positive_rank_sum = sum(rank for rank, label in zip(ranks, labels, strict=True) if label == 1)
    u = positive_rank_sum - positives * (positives + 1) / 2
    return u / (positives * negatives)


def balanced_accuracy(scores: Sequence[float], labels: Sequence[int], threshold: float) -> float:
    """Mean of the hit rates on each class when ``score >= threshold`` predicts supported.

    Raises ValueError as :func:`auroc` does.
    """
    positives, negatives = _class_sizes(scores, labels)
    true_positives = sum(
        1 for s, y in zip(scores, labels, strict=True) if y == 1 and s >= threshold
    )
    true_negatives = sum(1 for s, y in zip(scores, labels, strict=True) if y == 0 and s < threshold)
    return (true_positives / positives + true_negatives / negatives) / 2


def _class_sizes(scores: Sequence[float], labels: Sequence[int]) -> tuple[int, int]:
    if len(scores) != len(labels):
        raise ValueError(f"{len(scores)} scores for {len(labels)} labels")
    if any(label not in (0, 1) for label in labels):
        raise ValueError("labels must be 0 (hallucinated) or 1 (supported)")
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        raise ValueError("needs at least one supported and one hallucinated answer")
    return positives, negatives
