"""Full-batch AdamW training on the training pairs, with curves and weight snapshots.

The loss is computed in float64 (float32 ``log_softmax`` underflows near the 1e-7 losses
reached after grokking, which stalls the clean-up phase).

Examples:
    >>> from mi_tutor.grokking import EmbedMLP, modular_addition
    >>> data = modular_addition(7, 0.5)
    >>> model, log = train_grokking(EmbedMLP(7, 8, 16), data, GrokConfig(steps=20, log_every=10,
    ...                             checkpoint_every=10), progress=False)
    >>> log.steps, log.checkpoint_steps
    ([0, 10, 20], [0, 10, 20])
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..device import model_device
from ..transformer.train import adamw_with_warmup
from .data import ModularData
from .models import answer_logits

__all__ = ["GrokConfig", "GrokLog", "accuracy", "evaluate", "high_precision_loss", "sum_squared_weights",
           "train_grokking"]


@dataclass
class GrokConfig:
    """Settings of :func:`train_grokking`.

    Attributes:
        steps: Full-batch optimiser steps.
        lr: AdamW learning rate (after a linear warm-up).
        weight_decay: AdamW weight decay (1.0 in Nanda et al.; 0 never groks).
        betas: AdamW betas (Nanda et al.: 0.9, 0.98).
        warmup: Warm-up steps (``lr * min(step / warmup, 1)``).
        log_every: Record train/test loss and accuracy every this many steps.
        checkpoint_every: Keep a float32 copy of the weights every this many steps (0: none).
        seed: Seeds nothing random in full-batch training but is recorded for the recipe.
    """

    steps: int = 2000
    lr: float = 3e-3
    weight_decay: float = 1.0
    betas: tuple[float, float] = (0.9, 0.98)
    warmup: int = 10
    log_every: int = 10
    checkpoint_every: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "log_every"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"GrokConfig.{name} must be a positive int but is {getattr(self, name)!r}")
        if self.weight_decay < 0 or self.lr <= 0:
            raise ValueError(f"GrokConfig needs lr > 0 and weight_decay >= 0, got {self.lr}, {self.weight_decay}")


@dataclass
class GrokLog:
    """Curves and snapshots of one run.

    Attributes:
        steps: Steps at which the curves were recorded (step 0 = initialisation).
        train_loss, test_loss, train_acc, test_acc: One value per entry of ``steps``.
        weight_norm: Sum of squared weights per entry of ``steps``.
        checkpoint_steps: Steps of the snapshots in ``checkpoints``.
        checkpoints: ``state_dict`` copies on the CPU.
        seconds: Wall-clock training time.
    """

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    weight_norm: list[float] = field(default_factory=list)
    checkpoint_steps: list[int] = field(default_factory=list)
    checkpoints: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def curves(self) -> dict[str, list]:
        """The curves (everything but the snapshots) as a dict."""
        d = asdict(self)
        d.pop("checkpoints")
        return d

    def first_step(self, curve: str, threshold: float) -> int | None:
        """First recorded step at which ``curve`` (e.g. ``"test_acc"``) reaches ``threshold``."""
        for step, value in zip(self.steps, getattr(self, curve)):
            if value >= threshold:
                return step
        return None


def high_precision_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy computed in float64 (a float64 scalar).

    Examples:
        >>> high_precision_loss(torch.tensor([[30.0, 0.0]]), torch.tensor([0])).item() < 1e-12
        True
    """
    return F.cross_entropy(logits.double(), labels)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of rows whose arg-max is the label."""
    return (logits.argmax(-1) == labels).double().mean().item()


def sum_squared_weights(model: nn.Module) -> float:
    """Sum of the squares of every parameter (the quantity weight decay shrinks).

    Examples:
        >>> sum_squared_weights(nn.Linear(2, 1, bias=False).requires_grad_(False).apply(
        ...     lambda m: m.weight.fill_(2.0) if isinstance(m, nn.Linear) else None))
        8.0
    """
    return float(sum(p.detach().double().pow(2).sum() for p in model.parameters()))


@torch.no_grad()
def evaluate(model: nn.Module, data: ModularData) -> dict[str, float]:
    """Train/test loss (float64) and accuracy of ``model`` on ``data``."""
    logits = answer_logits(model, data.tokens, fast=True)
    out = {}
    for split, idx in (("train", data.train_idx), ("test", data.test_idx)):
        out[f"{split}_loss"] = high_precision_loss(logits[idx], data.labels[idx]).item()
        out[f"{split}_acc"] = accuracy(logits[idx], data.labels[idx])
    return out


def _snapshot(model: nn.Module) -> dict:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def train_grokking(model: nn.Module, data: ModularData, cfg: GrokConfig | None = None, progress: bool = True,
                   save_path: str | os.PathLike | None = None, save_every: int = 0) -> tuple[nn.Module, GrokLog]:
    """Train ``model`` on ``data``'s training pairs, full batch, with AdamW.

    Args:
        model: An :class:`EmbedMLP` or :func:`nanda_transformer` (trained in place).
        data: The task; tensors are moved to the model's device.
        cfg: Settings (defaults: :class:`GrokConfig`).
        progress: Show a tqdm progress bar with the latest accuracies.
        save_path: If given, ``torch.save`` the model, optimiser and log there every ``save_every``
            steps and at the end; training resumes from that file if it exists.
        save_every: Steps between saves (0: only at the end).

    Returns:
        ``(model, log)``.
    """
    cfg = cfg or GrokConfig()
    device = model_device(model)
    data = data.to(device)
    opt, sched = adamw_with_warmup(model, cfg.lr, cfg.weight_decay, cfg.warmup, betas=cfg.betas)
    log, start = GrokLog(), 0
    if save_path is not None and Path(save_path).exists():
        state = torch.load(save_path, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        log, start = state["log"], state["step"]

    def save(step: int) -> None:
        if save_path is not None:
            tmp = Path(str(save_path) + ".tmp")
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                        "log": log, "step": step, "cfg": asdict(cfg)}, tmp)
            os.replace(tmp, save_path)

    def record(step: int) -> None:
        if step % cfg.log_every == 0 or step == cfg.steps:
            for key, value in evaluate(model, data).items():
                getattr(log, key).append(value)
            log.steps.append(step)
            log.weight_norm.append(sum_squared_weights(model))
        if cfg.checkpoint_every and (step % cfg.checkpoint_every == 0 or step == cfg.steps):
            log.checkpoint_steps.append(step)
            log.checkpoints.append(_snapshot(model))

    tokens, labels = data.tokens[data.train_idx], data.labels[data.train_idx]
    t0 = time.perf_counter() - log.seconds
    if start == 0:
        model.eval()
        record(0)
    bar = tqdm(range(start + 1, cfg.steps + 1), disable=not progress, desc="training", initial=start,
               total=cfg.steps, mininterval=1.0)
    for step in bar:
        model.train()
        loss = high_precision_loss(answer_logits(model, tokens, fast=True), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        model.eval()
        record(step)
        if step % cfg.log_every == 0 and log.steps:
            bar.set_postfix(train_acc=f"{log.train_acc[-1]:.2f}", test_acc=f"{log.test_acc[-1]:.2f}", refresh=False)
        log.seconds = time.perf_counter() - t0
        if save_every and step % save_every == 0:
            save(step)
    log.seconds = time.perf_counter() - t0
    save(cfg.steps)
    return model, log
