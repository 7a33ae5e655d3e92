"""Attention-head scores: previous-token, duplicate-token and induction.

Two families of functions:

* the *diagonal* scores (:func:`previous_token_score`, :func:`duplicate_token_score`,
  :func:`induction_score`) read one diagonal of an attention pattern computed on
  ``[BOS] + r + r`` (see :func:`~mi_tutor.transformer.repeated_random_tokens`),
  the definitions of lesson 8;
* the *token-based* scores (:func:`token_masks`, :func:`pattern_score`,
  :func:`head_scores`) work on any tokens: a mask says, for every query, which
  keys a head of that kind should attend to, and the score is the attention
  mass on those keys (TransformerLens' head detector with ``"mul"``).

All scores are averaged over the batch and the scored query positions, and
lie in ``[0, 1]`` (1 = every scored query puts all its attention on the
expected key).

Examples:
    >>> pattern = torch.zeros(1, 1, 5, 5)
    >>> pattern[0, 0, 0, 0] = 1
    >>> pattern[0, 0, torch.arange(1, 5), torch.arange(0, 4)] = 1  # always the previous token
    >>> previous_token_score(pattern)
    tensor([1.])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ..validation import ShapeError, check_tensor

if TYPE_CHECKING:
    from ..transformer.model import HookedTransformer

__all__ = [
    "previous_token_score",
    "duplicate_token_score",
    "induction_score",
    "token_masks",
    "pattern_score",
    "head_scores",
    "SCORE_KINDS",
]

#: The kinds of head :func:`head_scores` scores.
SCORE_KINDS = ("previous_token", "duplicate_token", "induction")


def _check_pattern(pattern: object, seq_len: int | None = None) -> torch.Tensor:
    check_tensor("pattern", pattern, ("batch", "head", "query_pos", "key_pos"), floating=True)
    assert isinstance(pattern, torch.Tensor)
    if pattern.shape[-1] != pattern.shape[-2]:
        raise ShapeError(f"`pattern` has shape {tuple(pattern.shape)}: query_pos and key_pos must be equal")
    if seq_len is not None and pattern.shape[-1] != 1 + 2 * seq_len:
        raise ShapeError(
            f"`pattern` has shape {tuple(pattern.shape)} but for [BOS] + r + r with seq_len={seq_len} "
            f"its last two axes should be {1 + 2 * seq_len}."
        )
    return pattern


def previous_token_score(pattern: torch.Tensor) -> torch.Tensor:
    """Mean attention from each token to the token just before it.

    Args:
        pattern: Attention patterns ``[batch, head, query_pos, key_pos]``.

    Returns:
        One score per head ``[head]``: the mean of ``pattern[:, h, q, q - 1]``
        over the batch and the queries ``q = 1 .. pos - 1``.
    """
    pattern = _check_pattern(pattern)
    return pattern.diagonal(offset=-1, dim1=-2, dim2=-1).mean(dim=(0, -1))  # [head]


def duplicate_token_score(pattern: torch.Tensor, seq_len: int) -> torch.Tensor:
    """Mean attention from each token of the second copy to the same token in the first copy.

    Args:
        pattern: Patterns on ``[BOS] + r + r``, ``[batch, head, 1 + 2 seq_len, 1 + 2 seq_len]``.
        seq_len: Length of the repeated segment ``r``.

    Returns:
        ``[head]``: the mean of ``pattern[:, h, q, q - seq_len]`` over the
        second copy's queries ``q = seq_len + 1 .. 2 seq_len``.
    """
    pattern = _check_pattern(pattern, seq_len)
    return pattern.diagonal(offset=-seq_len, dim1=-2, dim2=-1)[..., -seq_len:].mean(dim=(0, -1))


def induction_score(pattern: torch.Tensor, seq_len: int) -> torch.Tensor:
    """Mean attention from each token of the second copy to the token *after* its first occurrence.

    Args:
        pattern: Patterns on ``[BOS] + r + r``, ``[batch, head, 1 + 2 seq_len, 1 + 2 seq_len]``.
        seq_len: Length of the repeated segment ``r``.

    Returns:
        ``[head]``: the mean of ``pattern[:, h, q, q - seq_len + 1]`` over the
        second copy's queries ``q = seq_len + 1 .. 2 seq_len``.

    Examples:
        >>> L = 3
        >>> pattern = torch.zeros(2, 1, 7, 7)
        >>> q = torch.arange(L + 1, 2 * L + 1)
        >>> pattern[:, 0, q, q - L + 1] = 1.0
        >>> induction_score(pattern, L)
        tensor([1.])
    """
    pattern = _check_pattern(pattern, seq_len)
    return pattern.diagonal(offset=1 - seq_len, dim1=-2, dim2=-1)[..., -seq_len:].mean(dim=(0, -1))


def token_masks(tokens: torch.Tensor) -> dict[str, torch.Tensor]:
    """Where each kind of head should attend, for any token sequences.

    Args:
        tokens: Token ids ``[batch, pos]``.

    Returns:
        ``{kind: mask [batch, query_pos, key_pos]}`` (bool) for the kinds of
        :data:`SCORE_KINDS`: ``previous_token`` (key = query - 1),
        ``duplicate_token`` (an earlier key holding the query's token) and
        ``induction`` (a key whose *previous* token is the query's token).

    Examples:
        >>> m = token_masks(torch.tensor([[5, 6, 5]]))
        >>> m["induction"][0, 2].tolist()
        [False, True, False]
    """
    check_tensor("tokens", tokens, ("batch", "pos"))
    n = tokens.shape[1]
    q = torch.arange(n, device=tokens.device)[:, None]
    k = torch.arange(n, device=tokens.device)[None, :]
    same = tokens[:, :, None] == tokens[:, None, :]  # [batch, query_pos, key_pos]
    prev_same = torch.zeros_like(same)
    prev_same[:, :, 1:] = same[:, :, :-1]  # key k's previous token equals the query's token
    return {
        "previous_token": (k == q - 1).expand_as(same).clone(),
        "duplicate_token": same & (k < q),
        "induction": prev_same & (k <= q) & (k >= 1),
    }


def pattern_score(pattern: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Attention mass on the masked keys, averaged over the queries that have any.

    Args:
        pattern: ``[batch, head, query_pos, key_pos]``.
        mask: ``[batch, query_pos, key_pos]`` (bool), e.g. from :func:`token_masks`.

    Returns:
        ``[head]`` scores in ``[0, 1]`` (0 when no query has a masked key).
    """
    pattern = _check_pattern(pattern)
    check_tensor("mask", mask, (pattern.shape[0], pattern.shape[2], pattern.shape[3]))
    mass = (pattern * mask[:, None].to(pattern.dtype)).sum(-1)  # [batch, head, query_pos]
    scored = mask.any(-1)[:, None].to(pattern.dtype)  # [batch, 1, query_pos]
    return (mass * scored).sum(dim=(0, 2)) / scored.sum(dim=(0, 2)).clamp(min=1)


@torch.no_grad()
def head_scores(model: "HookedTransformer", tokens: torch.Tensor) -> dict[str, torch.Tensor]:
    """Score every head of ``model`` on ``tokens`` for each kind of :data:`SCORE_KINDS`.

    Args:
        model: A :class:`~mi_tutor.transformer.HookedTransformer`.
        tokens: Token ids ``[batch, pos]`` (e.g. repeated random tokens).

    Returns:
        ``{kind: scores [n_layers, n_heads]}`` on the CPU.

    Examples:
        >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig, repeated_random_tokens
        >>> model = HookedTransformer(TransformerConfig(n_layers=2))
        >>> head_scores(model, repeated_random_tokens(4, 10, 64))["induction"].shape
        torch.Size([2, 4])
    """
    _, cache = model.run_with_cache(tokens, names_filter=lambda n: n.endswith("hook_pattern"))
    masks = {k: v.to(model.W_E.device) for k, v in token_masks(tokens.to(model.W_E.device)).items()}
    return {
        kind: torch.stack([pattern_score(cache["pattern", layer], masks[kind]) for layer in range(model.cfg.n_layers)]).cpu()
        for kind in SCORE_KINDS
    }
