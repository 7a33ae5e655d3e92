"""How good is the symbiote? Reading, agreement with dissection, causal selectivity, faithfulness.

* **Reading**: AUROC of a concept score (the symbiote's concept head, a linear probe
  on the same layer, or the symbiote on a random host as the control).
* **Agreement**: rank correlation and precision at ``k`` between the symbiote's
  per-channel importance and the channels' dissection IoU, and the rank of a
  planted channel.
* **Selectivity**: host accuracy lost on images holding the concept against the
  accuracy lost on the others, when channels are gated or ablated.
* **Faithfulness**: KL between the gated and the plain host on concept-free images.

Examples:
    >>> auroc(torch.tensor([0.1, 0.9, 0.8, 0.2]), torch.tensor([0, 1, 1, 0]))
    1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .. import hooks as H
from ..device import model_device
from ..features.dissection import QUANTILE, dissect
from ..features.probes import train_linear_probe
from ..validation import check_module_name, check_tensor
from .data import ConceptData, check_concept
from .gates import channels_touched
from .model import Symbiote
from .train import kl_to_host

__all__ = ["auroc", "symbiote_aurocs", "probe_aurocs", "mean_inhibition", "dissection_scores",
           "Agreement", "agreement", "Selectivity", "gated_logits", "selectivity", "faithfulness_kl"]


def auroc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Area under the ROC curve: the probability that a positive outscores a negative (ties count 1/2).

    Args:
        scores: ``[n]`` scores.
        labels: ``[n]`` 0/1 or bool.

    Raises:
        ValueError: if ``labels`` has only one class.
    """
    dims = check_tensor("scores", scores, ("n",))
    check_tensor("labels", labels, ("n",), dims=dims)
    s, y = scores.detach().double().cpu(), labels.detach().cpu().bool()
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"`labels` must hold both classes to compute an AUROC (got {n_pos} positives, {n_neg} negatives)")
    order = s.argsort()
    ranks = torch.empty_like(s)
    ranks[order] = torch.arange(1, len(s) + 1, dtype=torch.float64)
    for v in s.unique():                      # average ranks of ties
        tie = s == v
        if tie.sum() > 1:
            ranks[tie] = ranks[tie].mean()
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@torch.no_grad()
def symbiote_aurocs(sym: Symbiote, host: nn.Module, data: ConceptData) -> dict[str, float]:
    """Concept -> AUROC of the symbiote's concept head on ``data`` (read through ``host``); NaN where a
    concept is in every image or in none."""
    logits = sym.concept_logits(host, data.images.to(model_device(sym))).cpu()
    present = data.presence(sym.cfg.concepts)
    return {c: _auroc_or_nan(logits[:, k], present[:, k]) for k, c in enumerate(sym.cfg.concepts)}


def _auroc_or_nan(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """AUROC, or NaN for a concept present in every image or in none (no ROC curve)."""
    return auroc(scores, labels) if 0 < int(labels.sum()) < len(labels) else float("nan")


def probe_aurocs(host: nn.Module, layers: Sequence[str] | str, train: ConceptData, test: ConceptData,
                 concepts: Sequence[str], steps: int = 200) -> dict[str, float]:
    """Concept -> held-out AUROC of a linear probe on the pooled ``layers`` (one probe per concept)."""
    layers = [layers] if isinstance(layers, str) else list(layers)
    a = H.collect(host, train.images, layers, pool="mean")
    b = H.collect(host, test.images, layers, pool="mean")
    xa, xb = torch.cat([a[n] for n in layers], -1), torch.cat([b[n] for n in layers], -1)
    ya, yb = train.presence(concepts), test.presence(concepts)
    out = {}
    for k, c in enumerate(concepts):
        probe = train_linear_probe(xa, ya[:, k].long(), n_classes=2, steps=steps)
        logits = probe.logits(xb)
        out[c] = _auroc_or_nan(logits[:, 1] - logits[:, 0], yb[:, k])
    return out


@torch.no_grad()
def mean_inhibition(sym: Symbiote, host: nn.Module, data: ConceptData, concept: str | None = None) -> torch.Tensor:
    """``[C]`` mean inhibition ``1 - gate`` of every gated channel over the images holding ``concept``."""
    concept = concept or sym.cfg.target
    check_concept(concept, data.masks)
    on = data.has(concept)
    if not on.any():
        raise ValueError(f"no image of `data` holds concept {concept!r}")
    gates = sym.gates(host, data.images[on].to(model_device(sym)))
    return (1 - gates).mean(0).cpu()


def dissection_scores(host: nn.Module, layer: str, data: ConceptData, concept: str,
                      quantile: float = QUANTILE) -> torch.Tensor:
    """``[C]`` dissection IoU (Bau et al. 2017) of every channel of ``layer`` with ``concept``'s masks.

    ``quantile`` is the top fraction of a unit's activations that counts as "on" (0.005 in
    the paper; raise it for concepts that cover a large part of the image)."""
    check_module_name("layer", layer, host)
    check_concept(concept, data.masks)
    acts = H.collect(host, data.images, [layer])[layer].cpu()
    return dissect(acts, {concept: data.masks[concept].cpu()}, quantile).iou[:, 0]


@dataclass
class Agreement:
    """Result of :func:`agreement`.

    Attributes:
        spearman: Rank correlation of importance and IoU over all channels (NaN if either is constant).
        precision_at_k: Fraction of the importance top-``k`` that are in the IoU top-``k``.
        k: The ``k`` used.
        top_importance: Channels by decreasing importance (first ``k``).
        top_iou: Channels by decreasing IoU (first ``k``).
        planted_rank: Rank (0 = first) of the planted channel by importance, or ``None``.
    """

    spearman: float
    precision_at_k: float
    k: int
    top_importance: list[int]
    top_iou: list[int]
    planted_rank: int | None = None


def agreement(importance: torch.Tensor, iou: torch.Tensor, k: int = 3, planted: int | None = None) -> Agreement:
    """Compare the symbiote's channel importance ``[C]`` with dissection IoU ``[C]``.

    Examples:
        >>> a = agreement(torch.tensor([0.9, 0.1, 0.0]), torch.tensor([0.3, 0.05, 0.01]), k=1, planted=0)
        >>> a.precision_at_k, a.planted_rank
        (1.0, 0)
    """
    dims = check_tensor("importance", importance, ("C",), floating=True)
    check_tensor("iou", iou, ("C",), dims=dims, floating=True)
    if not 1 <= k <= len(iou):
        raise ValueError(f"`k`={k} must lie in 1..{len(iou)} (the number of channels)")
    imp, io = importance.detach().cpu(), iou.detach().cpu()
    top_i = imp.argsort(descending=True, stable=True)
    top_d = io.argsort(descending=True, stable=True)
    constant = bool(imp.std() == 0 or io.std() == 0)
    from scipy.stats import spearmanr  # here: scipy.stats costs ~1 s of CPU in every kernel that imports the zoo

    rho = float("nan") if constant else float(spearmanr(imp.numpy(), io.numpy()).statistic)
    prec = len(set(top_i[:k].tolist()) & set(top_d[:k].tolist())) / k
    rank = None if planted is None else int((top_i == planted).nonzero()[0, 0])
    return Agreement(rho, prec, k, top_i[:k].tolist(), top_d[:k].tolist(), rank)


@torch.no_grad()
def gated_logits(host: nn.Module, layer: str, images: torch.Tensor, gates: torch.Tensor | None,
                 batch_size: int = 512) -> torch.Tensor:
    """The host's logits on ``images`` with ``layer`` gated by ``gates`` (``[C]``, ``[n, C]`` or ``None``)."""
    from .gates import run_gated

    dev = model_device(host)
    outs = []
    for i in range(0, len(images), batch_size):
        x = images[i:i + batch_size].to(dev)
        if gates is None:
            outs.append(host(x))
        else:
            g = gates if gates.dim() == 1 else gates[i:i + batch_size]
            outs.append(run_gated(host, x, layer, g.to(dev)))
    return torch.cat(outs).cpu()


@dataclass
class Selectivity:
    """Result of :func:`selectivity` (accuracies in ``[0, 1]``).

    Attributes:
        target_before / target_after: Host accuracy on images holding the concept.
        other_before / other_after: Host accuracy on the other images.
        target_drop / other_drop: ``before - after`` of each.
        selectivity: ``target_drop - other_drop``.
        touched: Mean number of channels gated below 1 per image.
    """

    target_before: float
    target_after: float
    other_before: float
    other_after: float
    touched: float

    @property
    def target_drop(self) -> float:
        return self.target_before - self.target_after

    @property
    def other_drop(self) -> float:
        return self.other_before - self.other_after

    @property
    def selectivity(self) -> float:
        return self.target_drop - self.other_drop


def selectivity(host: nn.Module, layer: str, data: ConceptData, concept: str, gates: torch.Tensor) -> Selectivity:
    """Accuracy drops on images with and without ``concept`` when ``layer`` is gated by ``gates``.

    Args:
        host: The host network.
        layer: The gated layer.
        data: Images, labels, masks.
        concept: The target concept.
        gates: ``[C]`` (the same for every image) or ``[n, C]`` (one row per image of ``data``).
    """
    check_module_name("layer", layer, host)
    check_concept(concept, data.masks)
    on = data.has(concept)
    if gates.dim() == 2 and len(gates) != len(data):
        raise ValueError(f"`gates` has {len(gates)} rows but `data` has {len(data)} images")
    before = gated_logits(host, layer, data.images, None).argmax(-1) == data.labels.cpu()
    after = gated_logits(host, layer, data.images, gates).argmax(-1) == data.labels.cpu()
    acc = lambda m, sel: float(m[sel].float().mean()) if sel.any() else float("nan")  # noqa: E731
    return Selectivity(acc(before, on), acc(after, on), acc(before, ~on), acc(after, ~on), channels_touched(gates))


def faithfulness_kl(host: nn.Module, layer: str, data: ConceptData, concept: str, gates: torch.Tensor) -> float:
    """Mean ``KL(host || gated host)`` in nats over the images of ``data`` *without* ``concept``."""
    check_concept(concept, data.masks)
    off = ~data.has(concept)
    g = gates if gates.dim() == 1 else gates[off]
    clean = gated_logits(host, layer, data.images[off], None)
    return float(kl_to_host(clean, gated_logits(host, layer, data.images[off], g)))
