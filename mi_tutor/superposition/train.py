"""Training the batched toy models: Adam on the sum of per-instance losses.

Examples:
    >>> from mi_tutor.superposition import ToyModel, ToyModelConfig
    >>> model = ToyModel(ToyModelConfig(n_features=5, d_hidden=2, n_instances=2))
    >>> result = train_toy_model(model, ToyTrainConfig(steps=20), progress=False)
    >>> result.final_loss.shape
    torch.Size([2])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from ..validation import check_choice
from .model import ToyModel

__all__ = ["ToyTrainConfig", "ToyTrainResult", "best_repeats", "evaluate_loss", "train_toy_model"]


@dataclass
class ToyTrainConfig:
    """How to train a toy model.

    Attributes:
        steps: Optimiser steps.
        batch_size: Fresh samples per step (each instance draws its own).
        lr: Peak learning rate of Adam.
        schedule: ``"constant"`` or ``"cosine"`` (decays to 0 over ``steps``).
        weight_decay: AdamW weight decay (the original Colab used 0.01; 0 here).
        seed: Seeds the weight initialisation and the data stream.
        log_every: Record the per-instance loss every this many steps.
    """

    steps: int = 3000
    batch_size: int = 1024
    lr: float = 1e-2
    schedule: str = "cosine"
    weight_decay: float = 0.0
    seed: int = 0
    log_every: int = 50


@dataclass
class ToyTrainResult:
    """What :func:`train_toy_model` returns.

    Attributes:
        model: The trained model (trained in place).
        losses: ``[n_logged, n_instances]`` loss history.
        final_loss: ``[n_instances]`` loss on a fresh batch of 8 batch sizes after training.
    """

    model: ToyModel
    losses: torch.Tensor
    final_loss: torch.Tensor


def train_toy_model(
    model: ToyModel,
    cfg: ToyTrainConfig | None = None,
    progress: bool = True,
    reinit: bool = True,
) -> ToyTrainResult:
    """Train every instance of ``model`` at once, on the model's device.

    Args:
        model: A :class:`ToyModel`; its importances and feature probabilities
            define each instance's task.
        cfg: Training settings.
        progress: Show a tqdm progress bar with the mean loss.
        reinit: Re-draw the weights from ``cfg.seed`` first, so the result
            depends only on the seed (not on earlier random calls).

    Returns:
        A :class:`ToyTrainResult`.
    """
    cfg = cfg or ToyTrainConfig()
    check_choice("schedule", cfg.schedule, ["constant", "cosine"])
    device = model.W.device
    if reinit:
        g_init = torch.Generator().manual_seed(cfg.seed)
        with torch.no_grad():
            std = math.sqrt(2.0 / (model.cfg.n_features + model.cfg.d_hidden))
            model.W.copy_(torch.randn(model.W.shape, generator=g_init) * std)
            model.b.zero_()
    gen = torch.Generator(device=device).manual_seed(cfg.seed + 1)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.schedule == "cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / cfg.steps)))
    else:
        sched = None
    history = []
    bar = tqdm(range(cfg.steps), desc="toy model", disable=not progress, leave=False)
    model.train()
    for step in bar:
        x = model.generate_batch(cfg.batch_size, generator=gen)
        loss = model.loss(x)               # [n_instances]
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        if sched is not None:
            sched.step()
        if step % cfg.log_every == 0 or step == cfg.steps - 1:
            history.append(loss.detach())
            if progress:
                bar.set_postfix(loss=f"{loss.mean().item():.4g}")
    model.eval()
    with torch.no_grad():
        final = model.loss(model.generate_batch(8 * cfg.batch_size, generator=gen))
    return ToyTrainResult(model, torch.stack(history).cpu(), final.cpu())


def evaluate_loss(model: ToyModel, n_batch: int = 8192, seed: int = 1234) -> torch.Tensor:
    """Per-instance loss ``[n_instances]`` of ``model`` on a fresh seeded batch (no gradients).

    Examples:
        >>> from mi_tutor.superposition import ToyModel
        >>> evaluate_loss(ToyModel(), n_batch=16).shape
        torch.Size([1])
    """
    gen = torch.Generator(device=model.W.device).manual_seed(seed)
    with torch.no_grad():
        return model.loss(model.generate_batch(n_batch, generator=gen)).cpu()


def best_repeats(losses: torch.Tensor, n_repeats: int) -> torch.Tensor:
    """Index of the lowest-loss instance in each group of ``n_repeats`` consecutive instances.

    Some runs get stuck in worse local minima; training each setting a few
    times and keeping the best is how the paper reports its results.

    Args:
        losses: ``[n_groups * n_repeats]`` per-instance losses, repeats of a setting adjacent.
        n_repeats: Repeats per setting.

    Returns:
        ``[n_groups]`` instance indices into ``losses``.

    Examples:
        >>> best_repeats(torch.tensor([3.0, 1.0, 2.0, 5.0]), 2)
        tensor([1, 2])
    """
    if losses.dim() != 1 or n_repeats < 1 or losses.shape[0] % n_repeats:
        raise ValueError(f"`losses` of shape {tuple(losses.shape)} cannot be split into groups of "
                         f"n_repeats={n_repeats}")
    groups = losses.reshape(-1, n_repeats)
    return groups.argmin(-1) + torch.arange(groups.shape[0], device=losses.device) * n_repeats
