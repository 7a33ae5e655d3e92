"""Image-caption alignment: a vision net's images against a text model's captions (Huh et al. 2024).

Huh et al. measure how similar the *neighbourhoods* of the same data are in two
models of different modalities (mutual k-NN, :func:`~mi_tutor.universality.mutual_knn_alignment`),
and report that it grows with the models' competence. Here: the images of
object-world scenes through a vision net, their captions through a text model.
The baseline is the same score with the pairs shuffled (caption ``i`` no
longer describes image ``i``), which keeps both representations intact.

Examples:
    >>> g = torch.Generator().manual_seed(0)
    >>> z = torch.randn(200, 4, generator=g)
    >>> r = image_caption_alignment({"layer1": z + 0.1 * torch.randn(200, 4, generator=g)}, z, k=5)
    >>> r.scores["layer1"] > r.shuffled_mean + 10 * r.shuffled_std
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from .knn import mutual_knn_alignment

__all__ = ["AlignmentResult", "shuffled_knn_alignment", "image_caption_alignment"]


def shuffled_knn_alignment(X: torch.Tensor, Y: torch.Tensor, k: int = 10, n_shuffles: int = 5,
                           seed: int = 0) -> torch.Tensor:
    """Mutual-kNN scores ``[n_shuffles]`` of ``X`` against randomly re-paired rows of ``Y``."""
    g = torch.Generator().manual_seed(seed)
    return torch.tensor([mutual_knn_alignment(X, Y[torch.randperm(len(Y), generator=g).to(Y.device)], k)
                         for _ in range(n_shuffles)], dtype=torch.float64)


@dataclass
class AlignmentResult:
    """Alignment of each vision layer with the captions.

    Attributes:
        scores: ``{layer: mutual-kNN score}`` with the true pairs.
        shuffled_mean: Mean score with shuffled pairs (first layer's features; it
            does not depend on the layer beyond noise).
        shuffled_std: Standard deviation of the shuffled scores.
        chance: ``k / (n - 1)``.
    """

    scores: dict[str, float]
    shuffled_mean: float
    shuffled_std: float
    chance: float

    @property
    def best_layer(self) -> str:
        """The layer with the highest score."""
        return max(self.scores, key=self.scores.get)

    def margin(self, layer: str | None = None) -> float:
        """Score of ``layer`` (default: the best) minus the shuffled mean."""
        return self.scores[layer or self.best_layer] - self.shuffled_mean


def image_caption_alignment(image_features: Mapping[str, torch.Tensor], caption_features: torch.Tensor,
                            k: int = 10, n_shuffles: int = 5, seed: int = 0) -> AlignmentResult:
    """Mutual-kNN alignment of every vision layer with the captions, and the shuffled baseline.

    Args:
        image_features: ``{layer: [n, d]}`` of the images (e.g. from
            :func:`~mi_tutor.hooks.collect` with ``pool="mean"``).
        caption_features: ``[n, d_text]`` of their captions, same order.
        k: Neighbours.
        n_shuffles: Random re-pairings for the baseline.
        seed: Seeds the re-pairings.
    """
    scores = {name: mutual_knn_alignment(f, caption_features, k) for name, f in image_features.items()}
    first = next(iter(image_features.values()))
    shuffled = shuffled_knn_alignment(first, caption_features, k, n_shuffles, seed)
    n = caption_features.shape[0]
    return AlignmentResult(scores, float(shuffled.mean()), float(shuffled.std()) if n_shuffles > 1 else 0.0,
                           k / (n - 1))
