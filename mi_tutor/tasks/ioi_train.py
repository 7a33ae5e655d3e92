"""Training a transformer on the IOI task: cross-entropy of the END prediction only.

Examples:
    >>> from mi_tutor.transformer import HookedTransformer
    >>> model = HookedTransformer(ioi_model_config(n_layers=1, n_heads=1))
    >>> model, log = train_ioi(model, IOITrainConfig(steps=3, batch_size=8), progress=False)
    >>> len(log.losses)
    3
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..device import get_device, model_device, seed_everything
from ..transformer.config import TransformerConfig
from ..transformer.model import HookedTransformer
from ..transformer.train import adamw_with_warmup
from .ioi import D_VOCAB, N_CTX, IOIBatch, ioi_batch

__all__ = ["IOITrainConfig", "IOITrainLog", "ioi_model_config", "train_ioi", "ioi_accuracy", "end_logits"]


@dataclass
class IOITrainConfig:
    """Settings of :func:`train_ioi`.

    Attributes:
        steps: Optimiser steps, a fresh batch of mixed-order prompts each.
        batch_size: Prompts per step.
        lr: AdamW learning rate (constant after a linear warm-up).
        warmup: Warm-up steps.
        weight_decay: AdamW weight decay.
        seed: Seeds the data stream.
        order: Order of the training prompts (``"mixed"`` avoids positional shortcuts).
        split: Split of the training prompts (:data:`~mi_tutor.tasks.ioi.SPLITS`); with
            ``"train"`` the held-out accuracy of the log is measured on split ``"test"``.
    """

    steps: int = 2500
    batch_size: int = 256
    lr: float = 1e-3
    warmup: int = 100
    weight_decay: float = 0.01
    seed: int = 0
    order: str = "mixed"
    split: str = "classic"


@dataclass
class IOITrainLog:
    """Loss of every step and the held-out accuracy every ``eval_every`` steps."""

    losses: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_accuracy: list[float] = field(default_factory=list)


def ioi_model_config(n_layers: int = 2, n_heads: int = 1, d_head: int = 32, seed: int = 0, init: float = 0.05,
                     d_model: int = 64, d_mlp: int | None = None, d_vocab: int = D_VOCAB) -> TransformerConfig:
    """The architecture of the ``ioi_*`` zoo models (no LayerNorm).

    Args:
        n_layers, n_heads, d_head, d_model: Sizes.
        seed, init: Seed and standard deviation of the initialisation.
        d_mlp: Hidden width of an MLP after each attention layer, or ``None``
            for an attention-only model.
        d_vocab: Vocabulary size: :data:`~mi_tutor.tasks.ioi.D_VOCAB`, or
            :data:`~mi_tutor.tasks.ioi.CLASSIC_D_VOCAB` for the models of the classic split.
    """
    return TransformerConfig(n_layers=n_layers, d_model=d_model, n_heads=n_heads, d_head=d_head, d_vocab=d_vocab,
                             n_ctx=N_CTX, attn_only=d_mlp is None, d_mlp=d_mlp or 4 * d_model,
                             normalization_type=None, init_range=init, seed=seed)


def end_logits(model: torch.nn.Module, batch: IOIBatch | torch.Tensor) -> torch.Tensor:
    """Logits at the last position ``[batch, d_vocab]``."""
    tokens = batch.tokens if isinstance(batch, IOIBatch) else batch
    return model(tokens)[:, -1]


@torch.no_grad()
def ioi_accuracy(model: torch.nn.Module, batch: IOIBatch) -> float:
    """Fraction of prompts whose top END prediction is the answer."""
    device = model_device(model)
    logits = end_logits(model, batch.tokens.to(device))
    return (logits.argmax(-1).cpu() == batch.answers()).float().mean().item()


def train_ioi(model: HookedTransformer, cfg: IOITrainConfig | None = None, progress: bool = True,
              device: torch.device | str | None = None, eval_every: int = 250) -> tuple[HookedTransformer, IOITrainLog]:
    """Train ``model`` to predict the IO at END (in place).

    Args:
        model: A transformer with ``d_vocab = D_VOCAB`` and ``n_ctx >= N_CTX``.
        cfg: Training settings.
        progress: Show a tqdm bar.
        device: Where to train (default :func:`~mi_tutor.get_device`).
        eval_every: Steps between held-out accuracy measurements (1000 prompts).

    Returns:
        ``(model, log)`` with the model in eval mode.
    """
    cfg = cfg or IOITrainConfig()
    seed_everything(cfg.seed)
    device = torch.device(device) if device is not None else get_device()
    model = model.to(device).train()
    opt, sched = adamw_with_warmup(model, cfg.lr, cfg.weight_decay, cfg.warmup)
    held_out = ioi_batch(1000, seed=10**6 + cfg.seed, order=cfg.order,
                         split="test" if cfg.split == "train" else cfg.split)
    log = IOITrainLog()
    bar = tqdm(range(1, cfg.steps + 1), disable=not progress, desc="training IOI")
    for step in bar:
        batch = ioi_batch(cfg.batch_size, seed=cfg.seed * 1_000_003 + step, order=cfg.order, split=cfg.split)
        logits = end_logits(model, batch.tokens.to(device))
        loss = F.cross_entropy(logits, batch.io.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        log.losses.append(loss.item())
        if step % eval_every == 0 or step == cfg.steps:
            model.eval()
            log.eval_steps.append(step)
            log.eval_accuracy.append(ioi_accuracy(model, held_out))
            model.train()
            bar.set_postfix(loss=f"{loss.item():.3f}", acc=f"{log.eval_accuracy[-1]:.3f}")
    return model.eval(), log
