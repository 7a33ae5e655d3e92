"""Training the symbiote: read the concepts, suppress one, keep the rest, touch few channels.

The loss has four terms (the host stays frozen):

* **concept**: binary cross-entropy of the concept head against concept presence;
* **suppress**: on images holding the target concept, ``-log(1 - p_y)`` of the
  gated host (push the probability of the true class down; bounded below by 0,
  unlike a negated cross-entropy);
* **keep**: on images without it, ``KL(host || gated host)`` of the output
  distributions (faithfulness, in nats);
* **sparsity**: the hard-concrete L0 penalty, the expected number of touched
  (not fully open) channels per image.

Examples:
    >>> suppression_loss(torch.tensor([[0.0, 0.0]]), torch.tensor([0])).item() > 0
    True
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .. import hooks as H
from ..device import model_device
from ..validation import check_tensor
from .data import ConceptData
from .gates import l0_penalty, run_gated
from .model import Symbiote

__all__ = ["SymbioteTrainConfig", "suppression_loss", "kl_to_host", "train_symbiote"]


@dataclass
class SymbioteTrainConfig:
    """Settings of :func:`train_symbiote`.

    Attributes:
        steps: Adam steps.
        batch_size: Images per step.
        lr: Adam learning rate.
        concept_weight: Weight of the concept-reading loss.
        suppress_weight: Weight of the suppression loss (on target-concept images).
        kl_weight: Weight of the KL on images without the target concept.
        l0_weight: Weight of the expected number of touched channels.
        seed: Seeds the batches and the hard-concrete noise.
    """

    steps: int = 400
    batch_size: int = 128
    lr: float = 2e-2
    concept_weight: float = 1.0
    suppress_weight: float = 1.0
    kl_weight: float = 20.0
    l0_weight: float = 0.05
    seed: int = 0


def suppression_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean ``-log(1 - p_y)`` of ``logits`` ``[n, classes]`` at the true ``labels`` ``[n]``.

    Zero when the true class has probability 0, large when it has probability 1.
    """
    dims = check_tensor("logits", logits, ("n", "classes"), floating=True)
    check_tensor("labels", labels, ("n",), dims=dims)
    if len(labels) == 0:
        return logits.sum() * 0
    logp = F.log_softmax(logits, -1).gather(1, labels[:, None].long())[:, 0]
    return -torch.log1p(-logp.exp().clamp(max=1 - 1e-6)).mean()


def kl_to_host(clean_logits: torch.Tensor, gated_logits: torch.Tensor) -> torch.Tensor:
    """Mean ``KL(softmax(clean) || softmax(gated))`` over the batch, in nats.

    Examples:
        >>> kl_to_host(torch.zeros(2, 3), torch.zeros(2, 3)).item()
        0.0
    """
    dims = check_tensor("clean_logits", clean_logits, ("n", "classes"), floating=True)
    check_tensor("gated_logits", gated_logits, ("n", "classes"), dims=dims, floating=True)
    if len(clean_logits) == 0:
        return gated_logits.sum() * 0
    p = F.log_softmax(clean_logits, -1)
    q = F.log_softmax(gated_logits, -1)
    return (p.exp() * (p - q)).sum(-1).mean()


def train_symbiote(sym: Symbiote, host: nn.Module, data: ConceptData, cfg: SymbioteTrainConfig | None = None,
                   progress: bool = False) -> dict[str, list[float]]:
    """Train ``sym`` in place on ``data`` read through the frozen ``host``.

    Args:
        sym: A symbiote (see :func:`mi_tutor.symbiote.build_symbiote`).
        host: The host network (left unchanged, in eval mode).
        data: Images, labels and masks; must have a mask for every concept of ``sym``.
        cfg: Training settings.
        progress: Show a progress bar.

    Returns:
        History: one value per step for ``"concept"``, ``"suppress"``, ``"keep"``,
        ``"l0"`` and the total ``"loss"``, plus ``"seconds"``.
    """
    cfg = cfg or SymbioteTrainConfig()
    scfg = sym.cfg
    targets = data.presence(scfg.concepts)           # [n, K]; raises for a concept without mask
    has_target = data.has(scfg.target)
    host.eval()
    for p in host.parameters():
        p.requires_grad_(False)
    dev = model_device(sym)
    pooled = H.collect(host, data.images.to(dev), scfg.read_layers, pool="mean")
    with torch.no_grad():
        clean = torch.cat([host(data.images[i:i + 512].to(dev)) for i in range(0, len(data), 512)])
    g = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(sym.parameters(), lr=cfg.lr)
    history: dict[str, list[float]] = {k: [] for k in ("loss", "concept", "suppress", "keep", "l0")}
    start = time.perf_counter()
    sym.train()
    for _ in tqdm(range(cfg.steps), disable=not progress, desc="symbiote"):
        idx = torch.randint(0, len(data), (cfg.batch_size,), generator=g)
        batch = {n: a[idx.to(a.device)] for n, a in pooled.items()}
        logits, log_alpha = sym(batch)
        gates = sym.gates_from(log_alpha, sample=True, generator=g)
        out = run_gated(host, data.images[idx].to(dev), scfg.gate_layer, gates)
        on = has_target[idx].to(dev)
        terms = {
            "concept": F.binary_cross_entropy_with_logits(logits, targets[idx].to(dev)),
            "suppress": suppression_loss(out[on], data.labels[idx].to(dev)[on]),
            "keep": kl_to_host(clean[idx.to(dev)][~on], out[~on]),
            "l0": l0_penalty(log_alpha),
        }
        loss = (cfg.concept_weight * terms["concept"] + cfg.suppress_weight * terms["suppress"]
                + cfg.kl_weight * terms["keep"] + cfg.l0_weight * terms["l0"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history["loss"].append(float(loss.detach()))
        for k, v in terms.items():
            history[k].append(float(v.detach()))
    sym.eval()
    history["seconds"] = [time.perf_counter() - start]
    return history
