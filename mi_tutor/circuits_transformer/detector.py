"""A head detector: label every head by the scores it earns on repeated random tokens.

Examples:
    >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig
    >>> detect_heads(HookedTransformer(TransformerConfig(n_layers=1)))  # untrained: nothing stands out
    []
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

import torch

from ..validation import check_range
from ..transformer.data import repeated_random_tokens
from .scores import SCORE_KINDS, head_scores

if TYPE_CHECKING:
    from ..transformer.model import HookedTransformer

__all__ = ["HeadLabel", "detect_heads"]


@dataclass(frozen=True)
class HeadLabel:
    """One detected head.

    Attributes:
        layer: Its layer.
        head: Its index in the layer.
        kind: One of :data:`~mi_tutor.circuits_transformer.scores.SCORE_KINDS`.
        score: Its score for that kind.
    """

    layer: int
    head: int
    kind: str
    score: float

    @property
    def name(self) -> str:
        """``"L{layer}H{head}"`` (e.g. ``"L1H3"``)."""
        return f"L{self.layer}H{self.head}"


def detect_heads(model: "HookedTransformer", tokens: torch.Tensor | None = None, threshold: float = 0.4,
                 seq_len: int | None = None, batch: int = 32, seed: int = 0) -> list[HeadLabel]:
    """Every (head, kind) whose score on ``tokens`` exceeds ``threshold``, best first.

    Args:
        model: A :class:`~mi_tutor.transformer.HookedTransformer`.
        tokens: Tokens ``[batch, pos]`` to score on; by default fresh repeated
            random tokens ``[BOS] + r + r`` that fill the context.
        threshold: The score a head needs (0.4 as in ARENA's detector).
        seq_len: Length of ``r`` for the default tokens (default ``(n_ctx - 1) // 2``).
        batch: Number of default sequences.
        seed: Seed of the default sequences.

    Returns:
        A list of :class:`HeadLabel` sorted by decreasing score.
    """
    check_range("threshold", threshold, 0.0, 1.0)
    if tokens is None:
        seq_len = seq_len or (model.cfg.n_ctx - 1) // 2
        tokens = repeated_random_tokens(batch, seq_len, model.cfg.d_vocab, seed=seed)
    scores = head_scores(model, tokens)
    found = [
        HeadLabel(layer, head, kind, float(scores[kind][layer, head]))
        for kind in SCORE_KINDS
        for layer in range(model.cfg.n_layers)
        for head in range(model.cfg.n_heads)
        if scores[kind][layer, head] > threshold
    ]
    return sorted(found, key=lambda h: -h.score)
