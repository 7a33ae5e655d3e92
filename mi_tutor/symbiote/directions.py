"""Concept directions against single channels: Net2Vec and TCAV, for comparison with the symbiote.

* **Net2Vec** (Fong & Vedaldi 2018): a linear combination ``w . A`` of a layer's
  channel maps, fitted to segment the concept's mask; its dissection IoU beside
  the best single channel's says whether the concept lives in one unit or in a
  direction spread over several.
* **TCAV** (Kim et al. 2018): the concept activation vector (CAV) is the normal
  of a linear classifier separating pooled activations of concept images from
  others; the TCAV score of a class is the fraction of that class's images whose
  class logit increases along the CAV (positive directional derivative).

Examples:
    >>> cav = concept_activation_vector(torch.tensor([[2.0, 0.0], [3.0, 0.1]]), torch.tensor([[0.0, 0.0], [0.1, 0.1]]))
    >>> cav.argmax().item()
    0
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .. import hooks as H
from ..device import model_device
from ..features.dissection import QUANTILE, dissect
from ..features.probes import train_linear_probe
from ..validation import check_module_name, check_tensor
from .data import ConceptData, check_concept

__all__ = ["Net2Vec", "net2vec", "concept_activation_vector", "layer_gradients", "directional_derivatives", "tcav_score",
           "random_tcav_scores"]


@dataclass
class Net2Vec:
    """Result of :func:`net2vec`.

    Attributes:
        weights: ``[C]`` the combination on standardised channels (unit L2 norm), so that
            weights of channels with different scales compare.
        iou: Dissection IoU of the combined map with the concept.
        best_unit: The channel of highest single-unit IoU.
        best_unit_iou: Its IoU.
        top_share: ``|w|`` of the largest (standardised) weight over ``sum |w|`` (1 = a single channel).
    """

    weights: torch.Tensor
    iou: float
    best_unit: int
    best_unit_iou: float
    top_share: float


def net2vec(host: nn.Module, layer: str, data: ConceptData, concept: str, steps: int = 300,
            lr: float = 0.05, seed: int = 0, quantile: float = QUANTILE) -> Net2Vec:
    """Fit a Net2Vec segmentation embedding of ``concept`` on ``layer`` and compare it with single channels.

    The weights ``w`` and bias ``b`` minimise a class-balanced binary cross-entropy
    between ``sigmoid(w . A + b)`` (at the layer's resolution) and the fraction of
    each cell the concept's mask covers.
    """
    check_module_name("layer", layer, host)
    check_concept(concept, data.masks)
    acts = H.collect(host, data.images, [layer])[layer].cpu()                    # [n, C, h, w]
    mask = data.masks[concept].cpu()
    target = F.adaptive_avg_pool2d(mask[:, None].float(), acts.shape[-2:])[:, 0]  # [n, h, w]
    mean, std = acts.mean((0, 2, 3)), acts.std((0, 2, 3)).clamp_min(1e-6)
    z = (acts - mean[None, :, None, None]) / std[None, :, None, None]
    torch.manual_seed(seed)
    w = torch.zeros(acts.shape[1], requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    pos = float(target.mean())
    weight = torch.where(target > 0.5, 1 - pos, pos)        # class balance (Fong & Vedaldi's alpha)
    opt = torch.optim.Adam([w, b], lr=lr)
    with torch.enable_grad():
        for _ in range(steps):
            logit = torch.einsum("nchw,c->nhw", z, w) + b
            loss = F.binary_cross_entropy_with_logits(logit, target, weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
    w_raw = (w.detach() / std)                                # the direction in raw activation space
    combined = torch.einsum("nchw,c->nhw", acts, w_raw)[:, None]
    iou = float(dissect(combined, {concept: mask}, quantile).iou[0, 0])
    units = dissect(acts, {concept: mask}, quantile).iou[:, 0]
    w_std = w.detach()
    share = float(w_std.abs().max() / w_std.abs().sum().clamp_min(1e-12))
    return Net2Vec(w_std / w_std.norm().clamp_min(1e-12), iou, int(units.argmax()), float(units.max()), share)


def concept_activation_vector(concept_acts: torch.Tensor, other_acts: torch.Tensor, steps: int = 200) -> torch.Tensor:
    """Unit-norm CAV ``[C]``: the normal of a logistic regression separating ``concept_acts`` ``[n, C]``
    from ``other_acts`` ``[m, C]`` (pooled activations), pointing towards the concept."""
    dims = check_tensor("concept_acts", concept_acts, ("n", "C"), floating=True)
    check_tensor("other_acts", other_acts, ("m", "C"), dims=dims, floating=True)
    x = torch.cat([concept_acts, other_acts])
    y = torch.cat([torch.ones(len(concept_acts)), torch.zeros(len(other_acts))]).long().to(x.device)
    probe = train_linear_probe(x, y, n_classes=2, steps=steps)
    v = probe.direction(1) - probe.direction(0)
    return v / v.norm().clamp_min(1e-12)


def layer_gradients(host: nn.Module, layer: str, images: torch.Tensor, class_idx: int) -> torch.Tensor:
    """``[n, C]`` gradient of logit ``class_idx`` with respect to ``layer``'s output, summed over positions.

    The derivative along a CAV ``v`` applied at every position is then ``gradients @ v``: one
    backward pass serves any number of CAVs.
    """
    check_module_name("layer", layer, host)
    store = {}

    def hook(act, ctx):
        leaf = act.detach().requires_grad_(True)
        store["act"] = leaf
        return leaf

    dev = model_device(host)
    with torch.enable_grad():
        logits = H.run_with_hooks(host, images.to(dev), [(layer, hook)])
        grad, = torch.autograd.grad(logits[:, class_idx].sum(), store["act"])
    return (grad if grad.dim() == 2 else grad.flatten(2).sum(-1)).cpu()    # same CAV at every position


def _along(gradients: torch.Tensor, cav: torch.Tensor, layer: str) -> torch.Tensor:
    check_tensor("cav", cav, ("C",), floating=True)
    if gradients.shape[1] != cav.shape[0]:
        raise ValueError(f"`cav` has {cav.shape[0]} values but layer {layer!r} has {gradients.shape[1]} channels")
    return gradients @ cav.to(gradients)


def directional_derivatives(host: nn.Module, layer: str, images: torch.Tensor, class_idx: int,
                            cav: torch.Tensor) -> torch.Tensor:
    """``[n]`` derivative of logit ``class_idx`` along ``cav`` ``[C]`` applied at every position of ``layer``."""
    check_tensor("cav", cav, ("C",), floating=True)
    return _along(layer_gradients(host, layer, images, class_idx), cav.cpu(), layer)


def tcav_score(host: nn.Module, layer: str, images: torch.Tensor, class_idx: int, cav: torch.Tensor) -> float:
    """Fraction of ``images`` (of class ``class_idx``) whose class logit rises along ``cav``."""
    return float((directional_derivatives(host, layer, images, class_idx, cav) > 0).float().mean())


def random_tcav_scores(host: nn.Module, layer: str, data: ConceptData, concept: str, class_idx: int,
                       n: int = 10, seed: int = 0) -> list[float]:
    """TCAV scores of ``n`` CAVs trained on random splits of the images *without* ``concept`` (the null)."""
    check_module_name("layer", layer, host)
    check_concept(concept, data.masks)
    acts = H.collect(host, data.images, [layer], pool="mean")[layer]
    off = acts[~data.has(concept)]
    images = data.images[data.labels == class_idx]
    g = torch.Generator().manual_seed(seed)
    grads = layer_gradients(host, layer, images, class_idx)        # one backward pass for all n CAVs
    out = []
    for _ in range(n):
        perm = torch.randperm(len(off), generator=g)
        half = len(off) // 2
        cav = concept_activation_vector(off[perm[:half]], off[perm[half:]]).cpu()
        out.append(float((_along(grads, cav, layer) > 0).float().mean()))
    return out
