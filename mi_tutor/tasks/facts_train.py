"""The facts language model of lesson 11: its architecture, its training and its fact accuracy.

Examples:
    >>> cfg = facts_model_config()
    >>> cfg.n_layers, cfg.d_model, cfg.d_mlp, cfg.attn_only
    (4, 128, 512, False)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from ..transformer.config import TransformerConfig
from ..transformer.model import HookedTransformer
from ..transformer.train import TransformerTrainConfig, train_transformer
from .facts import D_VOCAB, N_CTX, FactWorld, corpus_batch, fact_prompts, facts_world

__all__ = ["facts_model_config", "FactsTrainLog", "train_facts", "fact_accuracy"]


def facts_model_config(n_layers: int = 4, d_model: int = 128, d_mlp: int = 512, seed: int = 0) -> TransformerConfig:
    """4 layers, d_model 128, 4 heads of 32, MLPs of 512 GELU units, LayerNorm (the ``facts_4l`` model)."""
    return TransformerConfig(n_layers=n_layers, d_model=d_model, n_heads=4, d_head=d_model // 4, d_vocab=D_VOCAB,
                             n_ctx=N_CTX, d_mlp=d_mlp, attn_only=False, normalization_type="LN", act_fn="gelu",
                             seed=seed)


@torch.no_grad()
def fact_accuracy(model, world: FactWorld | None = None, paraphrase: int = 0, rare_only: bool = False) -> float:
    """Share of the facts (all subjects x relations, one phrase) whose top answer is the true object."""
    world = world or facts_world()
    batch = fact_prompts(world, paraphrase=paraphrase)
    pred = model(batch.tokens.to(model.W_E.device))[:, -1].argmax(-1).cpu()
    ok = pred == batch.answers
    return float(ok[batch.rare].float().mean() if rare_only else ok.float().mean())


@dataclass
class FactsTrainLog:
    """Losses, seconds and the fact accuracy at every snapshot step."""

    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    steps: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    rare_accuracy: list[float] = field(default_factory=list)
    snapshots: list[dict] = field(default_factory=list)


def train_facts(cfg: TransformerTrainConfig | None = None, model_cfg: TransformerConfig | None = None,
                progress: bool = True, world: FactWorld | None = None,
                fractions: dict[str, float] | None = None) -> tuple[HookedTransformer, FactsTrainLog]:
    """Train a facts LM on :func:`~mi_tutor.tasks.facts.corpus_batch` (next-token loss on every position) on the CPU.

    Snapshots at ``cfg.checkpoint_steps`` are scored for fact accuracy and kept in the log. ``fractions`` are
    the corpus's shares of each kind of sequence (default: ``facts_4l``'s).
    """
    world = world or facts_world()
    cfg = cfg or TransformerTrainConfig(steps=600, batch_size=128, lr=1e-3, warmup=50)
    model = HookedTransformer(model_cfg or facts_model_config())
    start = time.perf_counter()
    model, log = train_transformer(model, lambda n, s: corpus_batch(n, s, world, fractions), cfg, progress=progress, device="cpu")
    out = FactsTrainLog(losses=log.losses, seconds=time.perf_counter() - start)
    probe = HookedTransformer(model.cfg)
    for step, state in zip(log.checkpoint_steps, log.checkpoints):
        probe.load_state_dict({k: v.float() for k, v in state.items()})
        probe.eval()
        out.steps.append(step)
        out.accuracy.append(fact_accuracy(probe, world))
        out.rare_accuracy.append(fact_accuracy(probe, world, rare_only=True))
        out.snapshots.append(state)
    return model, out
