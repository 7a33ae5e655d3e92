"""Training the transformer on a stream of token batches, with snapshots along the way.

Examples:
    >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig, SequenceConfig, induction_batch
    >>> model = HookedTransformer(TransformerConfig(n_layers=1, d_vocab=16, n_ctx=16))
    >>> data = SequenceConfig(d_vocab=16, n_ctx=16)
    >>> model, log = train_transformer(model, lambda n, s: induction_batch(n, data, s),
    ...                                TransformerTrainConfig(steps=5, batch_size=4), progress=False)
    >>> len(log.losses)
    5
"""

from __future__ import annotations

import math

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from ..device import get_device, seed_everything
from .model import HookedTransformer

__all__ = ["TransformerTrainConfig", "TrainLog", "train_transformer", "adamw_with_warmup"]


@dataclass
class TransformerTrainConfig:
    """Settings of :func:`train_transformer`.

    Attributes:
        steps: Optimiser steps (a fresh batch each step).
        batch_size: Sequences per step.
        lr: Peak AdamW learning rate (linear warm-up, then constant).
        warmup: Warm-up steps.
        weight_decay: AdamW weight decay.
        seed: Seeds the data stream and dropout-free training order.
        checkpoint_steps: Steps after which a snapshot of the weights is kept
            (step 0 is the initialisation).
        checkpoint_dtype: Dtype of the snapshots (half precision keeps files small).
    """

    steps: int = 2000
    batch_size: int = 64
    lr: float = 1e-3
    warmup: int = 100
    weight_decay: float = 0.01
    seed: int = 0
    checkpoint_steps: Sequence[int] = ()
    checkpoint_dtype: torch.dtype = torch.float16


@dataclass
class TrainLog:
    """What :func:`train_transformer` records.

    Attributes:
        losses: Training loss of every step.
        checkpoint_steps: The steps of the snapshots.
        checkpoints: One ``state_dict`` (on the CPU) per snapshot.
    """

    losses: list[float] = field(default_factory=list)
    checkpoint_steps: list[int] = field(default_factory=list)
    checkpoints: list[dict[str, torch.Tensor]] = field(default_factory=list)


def adamw_with_warmup(
    model: torch.nn.Module, lr: float, weight_decay: float, warmup: int, betas: tuple[float, float] = (0.9, 0.98),
    cosine_steps: int | None = None,
) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW whose learning rate rises linearly over ``warmup`` steps, then stays at ``lr``.

    The optimiser of every transformer recipe in the zoo (induction, IOI, grokking). With
    ``cosine_steps`` the rate after the warm-up follows a cosine from ``lr`` down to 0 at that step.

    Examples:
        >>> opt, sched = adamw_with_warmup(torch.nn.Linear(2, 2), lr=1e-3, weight_decay=0.0, warmup=10)
        >>> round(opt.param_groups[0]["lr"], 6)
        0.0001
        >>> opt, sched = adamw_with_warmup(torch.nn.Linear(2, 2), 1e-3, 0.0, warmup=1, cosine_steps=4)
        >>> rates = []
        >>> for _ in range(5):
        ...     rates.append(round(opt.param_groups[0]["lr"] * 1e3, 3))
        ...     opt.step()
        ...     sched.step()
        >>> rates
        [1.0, 0.854, 0.5, 0.146, 0.0]
    """
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, betas=betas)
    if cosine_steps is None:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, warmup)))
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, warmup)) * 0.5 * (
            1 + math.cos(math.pi * min(s, cosine_steps) / cosine_steps)))
    return opt, sched


def _snapshot(model: HookedTransformer, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", dtype).clone() for k, v in model.state_dict().items()}


def train_transformer(
    model: HookedTransformer,
    make_batch: Callable[[int, int], torch.Tensor],
    cfg: TransformerTrainConfig | None = None,
    progress: bool = True,
    device: torch.device | str | None = None,
) -> tuple[HookedTransformer, TrainLog]:
    """Train ``model`` on next-token prediction.

    Args:
        model: The transformer to train (in place).
        make_batch: ``(batch_size, seed) -> tokens [batch_size, pos]``; called
            with a new seed every step.
        cfg: Training settings.
        progress: Show a tqdm progress bar with the running loss.
        device: Where to train (default :func:`~mi_tutor.get_device`).

    Returns:
        ``(model, log)``: the trained model in eval mode and a :class:`TrainLog`.
    """
    cfg = cfg or TransformerTrainConfig()
    seed_everything(cfg.seed)
    device = torch.device(device) if device is not None else get_device()
    model = model.to(device).train()
    opt, sched = adamw_with_warmup(model, cfg.lr, cfg.weight_decay, cfg.warmup)
    log = TrainLog()
    wanted = set(cfg.checkpoint_steps)
    if 0 in wanted:
        log.checkpoint_steps.append(0)
        log.checkpoints.append(_snapshot(model, cfg.checkpoint_dtype))
    bar = tqdm(range(1, cfg.steps + 1), disable=not progress, desc="training")
    for step in bar:
        tokens = make_batch(cfg.batch_size, cfg.seed * 1_000_003 + step).to(device)
        loss = model(tokens, return_type="loss")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        log.losses.append(loss.item())
        if step in wanted:
            log.checkpoint_steps.append(step)
            log.checkpoints.append(_snapshot(model, cfg.checkpoint_dtype))
        if step % 25 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    return model.eval(), log
