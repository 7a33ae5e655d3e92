"""Activations along arbitrary directions, and how interpretable a direction is.

A feature need not be a single neuron: any direction ``v`` in a layer's channel
space defines a "unit" whose activation at each position is ``acts . v / |v|``.
Such a direction can be dissected exactly like a neuron, which lets us compare a
non-basis direction with the neurons it mixes.

Examples:
    >>> acts = torch.rand(2, 3, 4, 4)
    >>> direction_activation(acts, torch.tensor([1., 0., 0.])).shape
    torch.Size([2, 4, 4])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from ..validation import check_tensor
from .dissection import QUANTILE, dissection_iou, quantile_thresholds

__all__ = ["direction_activation", "concept_iou", "concept_direction", "DirectionComparison",
           "compare_direction_to_neurons"]


def direction_activation(acts: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """Project every position's channel vector onto the unit vector along ``direction``.

    Args:
        acts: ``[n, channels, h, w]``.
        direction: ``[channels]`` (any norm; it is normalised).

    Returns:
        ``[n, h, w]``.
    """
    dims = check_tensor("acts", acts, ("n", "channels", "h", "w"), floating=True)
    check_tensor("direction", direction, ("channels",), dims=dims, floating=True)
    unit = direction / direction.norm().clamp_min(1e-12)
    return torch.einsum("nchw,c->nhw", acts, unit.to(acts))


ThresholdsFn = Callable[[torch.Tensor, float], torch.Tensor]
IouFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def concept_iou(maps: torch.Tensor, mask: torch.Tensor, quantile: float = QUANTILE, *,
                thresholds_fn: ThresholdsFn = quantile_thresholds, iou_fn: IouFn = dissection_iou) -> float:
    """Dissection IoU of one ``[n, h, w]`` activation map with one ``[n, H, W]`` concept mask.

    ``thresholds_fn`` and ``iou_fn`` compute the threshold and the IoU (defaults
    :func:`~mi_tutor.features.quantile_thresholds` and :func:`~mi_tutor.features.dissection_iou`;
    a lesson passes the student's own).

    Examples:
        >>> maps = torch.zeros(1, 4, 4); maps[0, 0, 0] = 1.0
        >>> concept_iou(maps, maps > 0, quantile=1 / 16)
        1.0
    """
    acts = maps[:, None]
    return float(iou_fn(acts, mask[:, None].bool(), thresholds_fn(acts, quantile)).item())


@dataclass
class DirectionComparison:
    """A direction's IoU with a concept against the neurons it weights most.

    Attributes:
        direction_iou: IoU of the thresholded direction map with the concept.
        neurons: The ``k`` channels with the largest positive weights.
        weights: Their weights in the normalised direction.
        neuron_iou: Their own IoUs with the concept.
        best_any_iou: The best IoU of *any* neuron of the layer with the concept.
        best_any_neuron: That neuron.
        quantile: The top fraction that thresholded every map.
    """

    direction_iou: float
    neurons: list[int]
    weights: list[float]
    neuron_iou: list[float]
    best_any_iou: float = 0.0
    best_any_neuron: int = -1
    quantile: float = QUANTILE

    @property
    def best_neuron_iou(self) -> float:
        """The best IoU among the mixed neurons."""
        return max(self.neuron_iou)


def compare_direction_to_neurons(acts: torch.Tensor, direction: torch.Tensor, masks: Mapping[str, torch.Tensor],
                                 concept: str, k: int = 5, quantile: float = QUANTILE, *,
                                 activation_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
                                 = direction_activation,
                                 thresholds_fn: ThresholdsFn = quantile_thresholds,
                                 iou_fn: IouFn = dissection_iou) -> DirectionComparison:
    """Dissect ``direction`` and its ``k`` largest-weight neurons against ``concept``.

    Args:
        acts: ``[n, channels, h, w]``.
        direction: ``[channels]``.
        masks: Concept name -> ``[n, H, W]`` masks.
        concept: Which mask to score against.
        k: How many mixed neurons to compare with.
        quantile: Top fraction that thresholds every map. Dissection's 0.5%
            caps the IoU of a concept covering a fraction ``a`` of the pixels at
            ``0.005 / a``; passing the concept's area compares fairly.
        activation_fn: ``activation_fn(acts, direction) -> [n, h, w]``, the map
            along the direction (default :func:`direction_activation`).
        thresholds_fn: Per-unit thresholds, as in :func:`concept_iou`.
        iou_fn: Dataset-wide IoU, as in :func:`concept_iou`.

    Lesson 2 passes the student's own three functions, so its printed IoUs are
    the student's.

    Examples:
        >>> acts = torch.zeros(2, 3, 4, 4); acts[:, 1, :2] = 2.0      # channel 1 fires on the top half
        >>> c = compare_direction_to_neurons(acts, torch.tensor([0., 1., 0.]), {"top": acts[:, 1] > 0}, "top",
        ...                                  k=1, quantile=0.5)
        >>> c.neurons, round(c.direction_iou, 3), c.best_any_neuron
        ([1], 1.0, 1)
    """
    if concept not in masks:
        raise KeyError(f"No concept {concept!r}; concepts: {', '.join(masks)}")
    mask = masks[concept]
    unit = direction / direction.norm()
    top = unit.topk(k)
    score = lambda maps: concept_iou(maps, mask, quantile, thresholds_fn=thresholds_fn, iou_fn=iou_fn)  # noqa: E731
    every = [score(acts[:, c]) for c in range(acts.shape[1])]
    best_any = max(range(len(every)), key=every.__getitem__)
    return DirectionComparison(score(activation_fn(acts, unit)), top.indices.tolist(),
                               top.values.tolist(), [every[c] for c in top.indices.tolist()], every[best_any],
                               best_any, quantile)


def concept_direction(acts: torch.Tensor, mask: torch.Tensor, *,
                      probe_fn: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None
                      ) -> torch.Tensor:
    """Mass-mean direction of a concept at the resolution of ``acts``.

    The ``[n, H, W]`` mask is average-pooled to the ``h x w`` grid of ``acts``;
    positions covered by more than a quarter are "concept", those with no
    coverage are "not concept", and the direction is the difference of the
    two mean channel vectors.

    Args:
        acts: ``[n, channels, h, w]``.
        mask: ``[n, H, W]`` bool.
        probe_fn: ``probe_fn(vectors [m, channels], labels [m] bool) -> (direction, bias)``
            fitted on the concept and not-concept positions, whose direction is
            returned (lesson 2 passes the student's mass-mean probe). ``None``:
            the difference of the two means, computed here.

    Returns:
        ``[channels]``.

    Examples:
        >>> acts = torch.zeros(1, 2, 2, 2); acts[0, 0, 0, 0] = 4.0
        >>> mask = torch.zeros(1, 2, 2, dtype=torch.bool); mask[0, 0, 0] = True
        >>> concept_direction(acts, mask)
        tensor([4., 0.])
    """
    check_tensor("acts", acts, ("n", "channels", "h", "w"), floating=True)
    check_tensor("mask", mask, (acts.shape[0], "H", "W"))
    cover = torch.nn.functional.adaptive_avg_pool2d(mask[:, None].float(), acts.shape[-2:])[:, 0]
    vectors = acts.permute(0, 2, 3, 1).reshape(-1, acts.shape[1])
    cover = cover.flatten()
    on, off = vectors[cover > 0.25], vectors[cover == 0]
    if len(on) == 0:
        raise ValueError("the concept mask never covers a quarter of a position: no examples of the concept")
    if probe_fn is None:
        return on.mean(0) - off.mean(0)
    keep = (cover > 0.25) | (cover == 0)
    return probe_fn(vectors[keep], cover[keep] > 0.25)[0]
