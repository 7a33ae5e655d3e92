"""Network dissection (Bau et al. 2017): name units after the concepts they segment.

For every unit ``k`` the threshold ``T_k`` is the top ``quantile`` (0.5%) of its
activations over all images and positions. Its maps are upsampled (bilinear) to
the size of the concept masks and thresholded, ``M_k = A_k > T_k``. The IoU with
concept ``c`` is accumulated over the whole dataset,
``IoU_kc = sum |M_k & L_c| / sum |M_k | L_c|``, each unit gets its best concept,
and counts as a detector when that IoU exceeds 0.04.

Examples:
    >>> acts = torch.rand(4, 2, 8, 8); masks = {"a": torch.rand(4, 16, 16) > 0.5}
    >>> dissect(acts, masks).iou.shape
    torch.Size([2, 1])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..validation import ShapeError, check_range, check_tensor

__all__ = ["QUANTILE", "IOU_THRESHOLD", "quantile_thresholds", "stack_masks", "dissection_iou",
           "Dissection", "dissect", "label_units", "concept_type", "type_counts"]

QUANTILE = 0.005
IOU_THRESHOLD = 0.04


def quantile_thresholds(acts: torch.Tensor, quantile: float = QUANTILE) -> torch.Tensor:
    """Per-unit activation level exceeded by a fraction ``quantile`` of all values.

    Args:
        acts: ``[n, units, h, w]``.
        quantile: Top fraction (0.005 = the top 0.5%).

    Returns:
        ``[units]``; linear interpolation between order statistics, like
        ``torch.quantile(values, 1 - quantile)``.

    Examples:
        >>> quantile_thresholds(torch.arange(201.).reshape(1, 1, 1, 201), 0.005).item()
        199.0
    """
    check_tensor("acts", acts, ("n", "units", "h", "w"), floating=True)
    check_range("quantile", quantile, 0.0, 1.0)
    values = acts.transpose(0, 1).reshape(acts.shape[1], -1)
    pos = (values.shape[1] - 1) * (1 - quantile)
    lo = int(pos)
    hi = min(lo + 1, values.shape[1] - 1)
    low = values.kthvalue(lo + 1, dim=1).values            # order statistics by selection, not a full sort
    high = values.kthvalue(hi + 1, dim=1).values if hi > lo else low
    return low + (pos - lo) * (high - low)


def stack_masks(masks: Mapping[str, torch.Tensor], n: int | None = None) -> tuple[torch.Tensor, list[str]]:
    """Stack a concept -> ``[n, H, W]`` mask dict into ``([n, concepts, H, W] bool, names)``."""
    names = list(masks)
    if not names:
        raise ValueError("`masks` is empty: give at least one concept mask")
    first = masks[names[0]]
    for name in names:
        check_tensor(f"masks[{name!r}]", masks[name], (n if n is not None else first.shape[0], *first.shape[1:]))
    return torch.stack([masks[name].bool() for name in names], 1), names


def dissection_iou(acts: torch.Tensor, masks: torch.Tensor, thresholds: torch.Tensor,
                   batch_size: int = 256) -> torch.Tensor:
    """Dataset-wide IoU between thresholded unit maps and concept masks.

    Args:
        acts: ``[n, units, h, w]`` activations.
        masks: ``[n, concepts, H, W]`` bool concept masks.
        thresholds: ``[units]`` from :func:`quantile_thresholds`.
        batch_size: Images processed at once (memory only).

    Returns:
        ``[units, concepts]`` IoU.
    """
    dims = check_tensor("acts", acts, ("n", "units", "h", "w"), floating=True)
    check_tensor("thresholds", thresholds, ("units",), dims=dims)
    check_tensor("masks", masks, ("n", "concepts", "H", "W"), dims=dims)
    size = masks.shape[-2:]
    inter = torch.zeros(acts.shape[1], masks.shape[1], dtype=torch.float64)
    unit_area = torch.zeros(acts.shape[1], dtype=torch.float64)
    for i in range(0, len(acts), batch_size):
        up = F.interpolate(acts[i:i + batch_size], size=size, mode="bilinear", align_corners=False)
        on = (up > thresholds[None, :, None, None].to(up)).flatten(2).float()  # [b, units, HW]
        lab = masks[i:i + batch_size].flatten(2).float().to(on.device)          # [b, concepts, HW]
        inter += torch.einsum("bup,bcp->uc", on, lab).double().cpu()  # exact: counts < 2**24 per batch
        unit_area += on.sum((0, 2)).cpu()
    concept_area = masks.flatten(2).sum((0, 2)).double().cpu()
    union = unit_area[:, None] + concept_area[None, :] - inter
    return (inter / (union + 1e-10)).float()


@dataclass
class Dissection:
    """Result of :func:`dissect`.

    Attributes:
        iou: ``[units, concepts]``.
        concepts: Concept names (columns of ``iou``).
        thresholds: ``[units]`` activation thresholds.
        label: ``[units]`` best concept name of each unit.
        best_iou: ``[units]`` IoU of that concept.
    """

    iou: torch.Tensor
    concepts: list[str]
    thresholds: torch.Tensor
    label: list[str]
    best_iou: torch.Tensor

    def detectors(self, threshold: float = IOU_THRESHOLD) -> dict[str, list[int]]:
        """Concept -> units labelled with it whose IoU exceeds ``threshold``."""
        out: dict[str, list[int]] = {}
        for unit, (name, value) in enumerate(zip(self.label, self.best_iou.tolist())):
            if value > threshold:
                out.setdefault(name, []).append(unit)
        return out

    def counts(self, threshold: float = IOU_THRESHOLD) -> dict[str, int]:
        """Concept -> number of detector units (concepts with none are left out)."""
        return {name: len(units) for name, units in sorted(self.detectors(threshold).items(),
                                                           key=lambda kv: -len(kv[1]))}


def dissect(acts: torch.Tensor, masks: Mapping[str, torch.Tensor], quantile: float = QUANTILE, *,
            thresholds_fn: Callable[[torch.Tensor, float], torch.Tensor] = quantile_thresholds,
            iou_fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] = dissection_iou
            ) -> Dissection:
    """Dissect a layer: thresholds, IoU with every concept, best label per unit.

    Args:
        acts: ``[n, units, h, w]`` activations over a dataset.
        masks: Concept name -> ``[n, H, W]`` bool masks of the same images.
        quantile: Top fraction that defines a unit's threshold.
        thresholds_fn: ``thresholds_fn(acts, quantile) -> [units]`` (default
            :func:`quantile_thresholds`); a lesson passes the student's own.
        iou_fn: ``iou_fn(acts, masks [n, concepts, H, W], thresholds) -> [units, concepts]``
            (default :func:`dissection_iou`); a lesson passes the student's own.

    Returns:
        A :class:`Dissection`.

    Raises:
        ShapeError: if a mask's size differs from the others or from the number
            of images (the message says which size was wanted).
    """
    check_tensor("acts", acts, ("n", "units", "h", "w"), floating=True)
    if not masks:
        raise ValueError("`masks` is empty: give at least one concept mask")
    first = next(iter(masks.values()))
    size = tuple(first.shape[-2:])
    for name, mask in masks.items():
        want = (acts.shape[0], *size)
        if not isinstance(mask, torch.Tensor) or tuple(mask.shape) != want:
            got = tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
            raise ShapeError(f"masks[{name!r}] has shape {got} but expected {want}: one {size[0]}x{size[1]} "
                             f"mask per image of `acts` ({acts.shape[0]} images), the size of the first mask")
    stacked, names = stack_masks(masks, acts.shape[0])
    thresholds = thresholds_fn(acts, quantile)
    return label_units(iou_fn(acts, stacked, thresholds), names, thresholds)


def label_units(iou: torch.Tensor, concepts: list[str], thresholds: torch.Tensor) -> Dissection:
    """Name every unit after its best concept, from an ``[units, concepts]`` IoU table.

    Examples:
        >>> d = label_units(torch.tensor([[0.1, 0.3], [0.05, 0.0]]), ["a", "b"], torch.zeros(2))
        >>> d.label, d.counts()
        (['b', 'a'], {'b': 1, 'a': 1})
    """
    check_tensor("iou", iou, ("units", len(concepts)), floating=True)
    check_tensor("thresholds", thresholds, (iou.shape[0],))
    best, idx = iou.max(-1)
    return Dissection(iou, list(concepts), thresholds, [concepts[i] for i in idx.tolist()], best)


def concept_type(concept: str) -> str:
    """The type of a concept name: the part before ``":"`` (``"part:wheel"`` -> ``"part"``), else the name.

    Examples:
        >>> concept_type("object:car"), concept_type("blur")
        ('object', 'blur')
    """
    return concept.split(":", 1)[0]


def type_counts(result: Dissection, threshold: float = IOU_THRESHOLD) -> dict[str, int]:
    """Concept type -> number of detector units whose best concept is of that type.

    Examples:
        >>> d = label_units(torch.tensor([[0.1, 0.0], [0.0, 0.5], [0.2, 0.0]]), ["part:a", "colour:b"], torch.zeros(3))
        >>> type_counts(d)
        {'part': 2, 'colour': 1}
    """
    out: dict[str, int] = {}
    for name, units in result.detectors(threshold).items():
        out[concept_type(name)] = out.get(concept_type(name), 0) + len(units)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))
