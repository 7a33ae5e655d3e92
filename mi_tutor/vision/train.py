"""Training and evaluation of image classifiers on the procedural world."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from ..device import get_device, seed_everything

__all__ = ["ClassifierTrainConfig", "train_classifier", "classifier_accuracy"]


@dataclass
class ClassifierTrainConfig:
    """Settings of :func:`train_classifier`.

    Attributes:
        steps: Optimiser steps.
        batch_size: Images per step (fresh images every step: no overfitting).
        lr: Adam learning rate.
        weight_decay: AdamW weight decay.
        seed: Seeds the weights and the data stream.
    """

    steps: int = 1500
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0


def train_classifier(
    model: nn.Module,
    make_batch: Callable[[int, int], tuple[torch.Tensor, torch.Tensor]],
    cfg: ClassifierTrainConfig | None = None,
    progress: bool = True,
) -> nn.Module:
    """Train ``model`` with cross-entropy on batches from ``make_batch(n, seed)``.

    Args:
        model: A classifier returning logits ``[batch, n_classes]``.
        make_batch: ``(n, seed) -> (images [n, 3, H, W], labels [n])``; called
            with a new seed every step, so the data never repeats.
        cfg: Training settings.
        progress: Show a tqdm progress bar.

    Returns:
        The trained model (in eval mode, on the device it trained on).
    """
    cfg = cfg or ClassifierTrainConfig()
    seed_everything(cfg.seed)
    device = get_device()
    model = model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps)
    bar = tqdm(range(cfg.steps), disable=not progress, desc="training")
    for step in bar:
        x, y = make_batch(cfg.batch_size, cfg.seed * 1_000_003 + step)
        loss = nn.functional.cross_entropy(model(x.to(device)), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    return model.eval()


@torch.no_grad()
def classifier_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 512) -> float:
    """Fraction of ``images`` ``[n, 3, H, W]`` whose argmax logit equals ``labels`` ``[n]``."""
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(images), batch_size):
        logits = model(images[i:i + batch_size].to(device))
        correct += (logits.argmax(-1).cpu() == labels[i:i + batch_size]).sum().item()
    return correct / len(images)
