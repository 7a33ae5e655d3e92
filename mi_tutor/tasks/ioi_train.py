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
from ..validation import check_choice
from .ioi import D_VOCAB, N_CTX, IOIBatch, ioi_batch, name_token_ids, template_word_ids

__all__ = ["IOITrainConfig", "IOITrainLog", "ioi_model_config", "noisy_fillers", "train_ioi", "ioi_accuracy", "end_logits"]


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
        filler_noise: Each word of a training prompt other than BOS, the names and END is
            replaced, with this probability, by a random word of the split's templates
            (:func:`noisy_fillers`): the model cannot lean on the exact wording.
        schedule: ``"constant"`` after the warm-up, or ``"cosine"`` (decaying to 0 at ``steps``).
    """

    steps: int = 2500
    batch_size: int = 256
    lr: float = 1e-3
    warmup: int = 100
    weight_decay: float = 0.01
    seed: int = 0
    order: str = "mixed"
    split: str = "classic"
    filler_noise: float = 0.0
    schedule: str = "constant"


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


def noisy_fillers(tokens: torch.Tensor, fraction: float, generator: torch.Generator,
                  split: str = "train") -> torch.Tensor:
    """``tokens`` with each filler word replaced, with probability ``fraction``, by a random word of the split's templates.

    A filler is any token but BOS (position 0), END (the last position) and a name; the words drawn
    are those of the templates ``split`` uses (split ``"train"`` never shows the words of the held-out
    templates). The input is left unchanged.

    Args:
        tokens: IOI prompts ``[batch, pos]``.
        fraction: Probability that a filler is replaced, in ``[0, 1]``.
        generator: The random stream (the same state gives the same prompts).
        split: Whose template words are drawn (:data:`~mi_tutor.tasks.ioi.SPLITS`).

    Returns:
        A new ``[batch, pos]`` tensor.

    Examples:
        >>> from mi_tutor.tasks import ioi_batch
        >>> b = ioi_batch(4, seed=0, split="train")
        >>> noisy = noisy_fillers(b.tokens, 0.5, torch.Generator().manual_seed(0))
        >>> bool((noisy[:, 0] == b.tokens[:, 0]).all()), bool((noisy.gather(1, b.pos["S2"][:, None]) == b.s[:, None]).all())
        (True, True)
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"noisy_fillers: `fraction` must be in [0, 1], not {fraction!r}")
    words = template_word_ids(split)
    out = tokens.clone()
    swap = (torch.rand(tokens.shape, generator=generator) < fraction) & ~torch.isin(tokens, name_token_ids())
    swap[:, 0] = False
    swap[:, -1] = False
    out[swap] = words[torch.randint(len(words), (int(swap.sum()),), generator=generator)]
    return out


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
    check_choice("schedule", cfg.schedule, ["constant", "cosine"])
    opt, sched = adamw_with_warmup(model, cfg.lr, cfg.weight_decay, cfg.warmup,
                                   cosine_steps=cfg.steps if cfg.schedule == "cosine" else None)
    noise = torch.Generator().manual_seed(cfg.seed + 99)
    held_out = ioi_batch(1000, seed=10**6 + cfg.seed, order=cfg.order,
                         split="test" if cfg.split == "train" else cfg.split)
    log = IOITrainLog()
    bar = tqdm(range(1, cfg.steps + 1), disable=not progress, desc="training IOI")
    for step in bar:
        batch = ioi_batch(cfg.batch_size, seed=cfg.seed * 1_000_003 + step, order=cfg.order, split=cfg.split)
        tokens = noisy_fillers(batch.tokens, cfg.filler_noise, noise, cfg.split) if cfg.filler_noise else batch.tokens
        logits = end_logits(model, tokens.to(device))
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
