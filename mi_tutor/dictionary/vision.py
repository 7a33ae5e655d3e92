"""SAEs on a course CNN: concept labels and splicing an SAE into the model.

The image world (:func:`mi_tutor.vision.render_shapes`) knows every image's
shape kind and colour, so each image gets a row of concept labels
(``disk``, ..., ``red``, ...) against which units can be scored with
:func:`mi_tutor.dictionary.concept_purity`. The SAE's training data, one vector
per image, is ``mi_tutor.hooks.collect(model, images, [layer], pool="mean")``.

Examples:
    >>> from mi_tutor.vision import render_shapes
    >>> concepts, names = concept_matrix(render_shapes(6, seed=0))
    >>> concepts.shape, names[:2]
    (torch.Size([6, 10]), ['disk', 'square'])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..device import model_device
from ..hooks import hooks
from ..validation import check_tensor
from ..vision.world import WorldBatch
from .sae import SparseAutoencoder

__all__ = ["concept_matrix", "spliced_losses"]


def concept_matrix(batch: WorldBatch) -> tuple[torch.Tensor, list[str]]:
    """One bool column per shape kind and per colour.

    Returns:
        ``(concepts [n, n_kinds + n_colours], names)``.
    """
    kinds, colours = batch.config.kinds, batch.config.colours
    shape_cols = F.one_hot(batch.labels, len(kinds)).bool()
    colour_cols = F.one_hot(batch.colour, len(colours)).bool()
    return torch.cat([shape_cols, colour_cols], dim=1), [*kinds, *colours]


@torch.no_grad()
def spliced_losses(model: nn.Module, sae: SparseAutoencoder, images: torch.Tensor, labels: torch.Tensor,
                   layer: str = "head.0", scale: float = 1.0) -> dict[str, float]:
    """Cross-entropy of ``model`` clean, with ``layer`` replaced by the SAE's reconstruction, and zeroed.

    ``layer`` must output ``[b, d_in]`` or ``[b, d_in, 1, 1]`` (as ``"head.0"`` does).
    If the SAE was trained on activations divided by ``scale``, pass the same
    ``scale``: the SAE then sees ``act / scale`` and its output is multiplied back.

    Returns:
        ``{"clean", "spliced", "zero"}`` mean cross-entropies; feed them to
        :func:`mi_tutor.dictionary.loss_recovered`.
    """
    dims = check_tensor("images", images, ("n", 3, "height", "width"), floating=True)
    check_tensor("labels", labels, ("n",), dims=dims)
    device = model_device(model)
    images, labels = images.to(device), labels.to(device)

    def splice(act: torch.Tensor, hook) -> torch.Tensor:
        x_hat, _ = sae(act.flatten(1).to(sae.W_dec.device) / scale)
        return (x_hat * scale).to(act.device).reshape(act.shape)

    def zero(act: torch.Tensor, hook) -> torch.Tensor:
        return torch.zeros_like(act)

    result = {"clean": F.cross_entropy(model(images), labels).item()}
    for name, fn in (("spliced", splice), ("zero", zero)):
        with hooks(model, [(layer, fn)]):
            result[name] = F.cross_entropy(model(images), labels).item()
    return result
