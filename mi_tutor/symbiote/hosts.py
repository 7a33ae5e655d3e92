"""Hosts with a known answer: a channel planted to detect a concept, and random controls.

A *planted* host is a classifier trained as usual plus an auxiliary loss that
makes one chosen channel of one layer segment one chosen concept: the channel's
map, through a fixed affine readout ``4 a - 2`` (so that it must fire at about the
scale of the layer's other channels, not whisper to a large learned gain), is fitted with
class-balanced binary cross-entropy to the cells the concept's mask touches. A segmenting
channel is not yet a causal *handle*: the layers above may read the concept elsewhere, or use
the channel for other classes too. Two options plant its causal role. Channel dropout on the
layer's other channels (``dropout_others``) makes the layers above rely on the planted one.
*Interventional* training (``ablate_prob``, ``ablate_label``) zeroes the planted channel in a
random fraction of the scenes, and a scene holding the concept whose channel was zeroed is
labelled ``ablate_label`` (for the object world: a car without its wheel channel is a cart,
the class that differs from the car only by its wheels); the layers above must then take
the concept from that channel alone, and cannot use it for other classes. With
``ablate_graded`` the channel is scaled by a random ``u`` instead and the label moves by
``1 - u``: the channel's effect is then graded, and a tool that follows gradients (gates
trained from "open") can find it; an all-or-nothing planting hides it from them. After
training the zoo entry records which channel it is, so a tool that claims to
find "the concept's channel" can be checked against the truth. A *random* host
(the same architecture, untrained) is the control of Hewitt & Liang (2019): a
reader that does as well on it is doing its own computation.

Examples:
    >>> import torch.nn as nn
    >>> net = random_host(lambda: nn.Sequential(nn.Conv2d(3, 2, 1)), seed=0)
    >>> net.training
    False
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .. import hooks as H
from ..device import get_device, seed_everything
from ..validation import check_module_name
from .data import ConceptData

__all__ = ["PlantConfig", "plant_loss", "train_planted_host", "random_host"]


@dataclass
class PlantConfig:
    """Settings of :func:`train_planted_host`.

    Attributes:
        layer: The layer holding the planted channel.
        channel: Its index.
        concept: The concept it is made to detect (a mask name of the world).
        aux_weight: Weight of the auxiliary loss against the classification loss.
        dropout_others: Channel dropout on the layer's *other* channels during training, so
            that the layers above learn to rely on the planted channel (0 = none).
        ablate_prob: Fraction of the training scenes in which the planted channel is zeroed (0 = none).
        ablate_label: The label of a scene holding ``concept`` whose planted channel was zeroed
            (``None``: its own label).
        ablate_graded: Scale the planted channel by ``u ~ U(0, 1)`` instead of zeroing it, and give
            a scene holding ``concept`` the soft label ``u`` of its class and ``1 - u`` of
            ``ablate_label``: the channel's causal role is then graded, so that a gate's gradient
            at "open" already points at it.
        steps: Optimiser steps (fresh images every step).
        batch_size: Images per step.
        lr: AdamW learning rate (one-cycle schedule).
        weight_decay: AdamW weight decay.
        seed: Seeds the weights and the data stream.
    """

    layer: str
    channel: int
    concept: str
    aux_weight: float = 1.0
    dropout_others: float = 0.0
    ablate_prob: float = 0.0
    ablate_label: int | None = None
    ablate_graded: bool = False
    steps: int = 1500
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0


def plant_loss(channel_map: torch.Tensor, mask: torch.Tensor, scale: float = 4.0, bias: float = -2.0) -> torch.Tensor:
    """Class-balanced BCE between ``scale * channel_map + bias`` ``[n, h, w]`` and where the mask lies.

    A cell of the channel's map is a positive when the concept's mask ``[n, H, W]`` covers any of
    its pixels. Positives and negatives weigh half each (as in Net2Vec): a concept covers a few
    percent of the image, and an unweighted loss is minimised by a channel that never fires.
    """
    target = (F.adaptive_max_pool2d(mask[:, None].float(), channel_map.shape[-2:])[:, 0] > 0).float()
    pos = target.mean().clamp(1e-3, 1 - 1e-3)
    weight = torch.where(target > 0, 0.5 / pos, 0.5 / (1 - pos))
    return F.binary_cross_entropy_with_logits(scale * channel_map + bias, target, weight=weight)


def train_planted_host(model: nn.Module, make_batch: Callable[[int, int], ConceptData], cfg: PlantConfig,
                       progress: bool = True) -> tuple[nn.Module, dict[str, float]]:
    """Train a classifier with a planted concept channel.

    Args:
        model: The untrained classifier (logits ``[n, classes]``).
        make_batch: ``(n, seed) -> ConceptData`` with a mask for ``cfg.concept``.
        cfg: The :class:`PlantConfig`.
        progress: Show a progress bar.

    Returns:
        ``(model in eval mode, {"seconds", "final_ce", "final_aux"})``.
    """
    check_module_name("cfg.layer", cfg.layer, model)
    seed_everything(cfg.seed)
    device = get_device()
    model = model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps)
    store: dict[str, torch.Tensor] = {}

    def grab(act, ctx):
        store["act"] = act
        if not model.training or (cfg.dropout_others <= 0 and cfg.ablate_prob <= 0):
            return None
        keep = torch.ones(act.shape[0], act.shape[1], 1, 1, device=act.device, dtype=act.dtype)
        if cfg.dropout_others > 0:
            keep = (torch.rand(keep.shape, device=act.device) >= cfg.dropout_others).to(act) / (1.0 - cfg.dropout_others)
            keep[:, cfg.channel] = 1.0                          # the planted channel is never dropped
        keep[:, cfg.channel] = keep[:, cfg.channel] * store["scale"].to(act)[:, None, None]
        return act * keep

    start = time.perf_counter()
    ce = aux = torch.zeros(())
    bar = tqdm(range(cfg.steps), disable=not progress, desc="planted host")
    with H.hooks(model, [(cfg.layer, grab)]):
        for step in bar:
            batch = make_batch(cfg.batch_size, cfg.seed * 1_000_003 + step)
            if cfg.channel >= 0 and cfg.concept not in batch.masks:
                raise KeyError(f"`cfg.concept`={cfg.concept!r} has no mask in the batches (masks: {batch.concepts})")
            labels = batch.labels.to(device)
            ablate = torch.rand(len(labels)) < cfg.ablate_prob
            u = torch.rand(len(labels)) if cfg.ablate_graded else torch.zeros(len(labels))
            store["scale"] = torch.where(ablate, u, torch.ones(len(labels))).to(device)   # planted channel's factor
            logits = model(batch.images.to(device))
            moved = ablate.to(device) & batch.has(cfg.concept).to(device)    # concept scenes intervened on
            if cfg.ablate_label is not None and cfg.ablate_graded:
                own, other = F.one_hot(labels, logits.shape[1]).float(), torch.zeros_like(logits)
                other[:, cfg.ablate_label] = 1.0
                s = store["scale"][:, None]
                target = torch.where(moved[:, None], s * own + (1 - s) * other, own)
                ce = F.cross_entropy(logits, target)
            else:
                if cfg.ablate_label is not None:
                    labels = torch.where(moved, torch.full_like(labels, cfg.ablate_label), labels)
                ce = F.cross_entropy(logits, labels)
            act = store["act"]
            if not 0 <= cfg.channel < act.shape[1]:
                raise ValueError(f"`cfg.channel`={cfg.channel} but layer {cfg.layer!r} has {act.shape[1]} channels")
            aux = plant_loss(act[:, cfg.channel], batch.masks[cfg.concept].to(device))
            loss = ce + cfg.aux_weight * aux
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if step % 50 == 0:
                bar.set_postfix(ce=f"{ce.item():.3f}", aux=f"{aux.item():.3f}")
    return model.eval(), {"seconds": time.perf_counter() - start, "final_ce": float(ce.detach()), "final_aux": float(aux.detach())}


def random_host(build: Callable[[], nn.Module], seed: int = 0) -> nn.Module:
    """A randomly initialised host (``build()`` under ``seed``), in eval mode: the control."""
    torch.manual_seed(seed)
    return build().eval()
