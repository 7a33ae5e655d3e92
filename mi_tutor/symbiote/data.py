"""The host's data as the symbiote sees it: images, class labels and concept masks.

A concept is *present* in an image when its mask covers at least ``min_pixels``
pixels. Masks come from the world (parts, objects, colours, textures) and are
also what dissection scores channels against.

Examples:
    >>> data = ConceptData(torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 0, 1]),
    ...                    {"dot": torch.zeros(4, 8, 8, dtype=torch.bool)})
    >>> data.presence(["dot"]).shape
    torch.Size([4, 1])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch

from ..validation import check_choice, check_tensor
from ..vision.objects import render_objects

__all__ = ["ConceptData", "check_concept", "concept_presence", "objects_concept_data"]


def check_concept(concept: str, masks: Mapping[str, torch.Tensor], name: str = "concept") -> None:
    """Raise ``KeyError`` naming ``name`` unless the world has a mask for ``concept``.

    Examples:
        >>> check_concept("dot", {"dot": torch.zeros(1, 2, 2)})
    """
    check_choice(name, concept, list(masks))


def concept_presence(masks: Mapping[str, torch.Tensor], concepts: Sequence[str], min_pixels: int = 1) -> torch.Tensor:
    """``[n, K]`` float: 1 where concept ``k``'s mask covers at least ``min_pixels`` pixels of image ``n``.

    Raises:
        KeyError: naming ``concepts`` for a concept with no mask (the valid names are listed).

    Examples:
        >>> m = {"a": torch.tensor([[[1, 0]], [[0, 0]]]).bool()}
        >>> concept_presence(m, ["a"]).flatten().tolist()
        [1.0, 0.0]
    """
    concepts = [concepts] if isinstance(concepts, str) else list(concepts)
    for c in concepts:
        check_concept(c, masks, "concepts")
    return torch.stack([masks[c].flatten(1).sum(-1) >= min_pixels for c in concepts], -1).float()


@dataclass
class ConceptData:
    """Images with the host's labels and the world's concept masks.

    Attributes:
        images: ``[n, 3, H, W]``.
        labels: ``[n]`` class index the host was trained to predict.
        masks: concept name -> ``[n, H, W]`` bool.
        min_pixels: Pixels of mask that make a concept present.
    """

    images: torch.Tensor
    labels: torch.Tensor
    masks: dict[str, torch.Tensor] = field(default_factory=dict)
    min_pixels: int = 1

    def __post_init__(self):
        dims = check_tensor("images", self.images, ("n", 3, "H", "W"), floating=True)
        check_tensor("labels", self.labels, ("n",), dims=dims)
        for name, m in self.masks.items():
            check_tensor(f"masks[{name!r}]", m, ("n", "H", "W"), dims=dims)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def concepts(self) -> list[str]:
        """The concepts with masks."""
        return list(self.masks)

    def presence(self, concepts: Sequence[str] | str) -> torch.Tensor:
        """``[n, K]`` presence of ``concepts`` (see :func:`concept_presence`)."""
        return concept_presence(self.masks, concepts, self.min_pixels)

    def has(self, concept: str) -> torch.Tensor:
        """``[n]`` bool: images holding ``concept``."""
        return self.presence([concept])[:, 0].bool()

    def subset(self, index: torch.Tensor | slice) -> "ConceptData":
        """The images selected by ``index`` (a slice, indices or a bool mask)."""
        return ConceptData(self.images[index], self.labels[index], {k: v[index] for k, v in self.masks.items()},
                           self.min_pixels)

    def to(self, device: torch.device | str) -> "ConceptData":
        """A copy on ``device``."""
        return ConceptData(self.images.to(device), self.labels.to(device),
                           {k: v.to(device) for k, v in self.masks.items()}, self.min_pixels)


def objects_concept_data(n: int, seed: int) -> ConceptData:
    """``n`` object-world scenes (``render_objects(n, seed=seed)``) as :class:`ConceptData`, with every
    mask of ``ObjectBatch.masks()`` (the data of lesson 12's hosts and symbiotes)."""
    batch = render_objects(n, seed=seed)
    return ConceptData(batch.images, batch.labels, batch.masks())
