"""Controls for universality claims: a bag of words (untrained nets: :func:`mi_tutor.zoo.untrained`).

A similarity between two trained nets means little until it is set beside the
same similarity between nets that learnt nothing: convolutions with random
weights already give nets of one architecture similar first layers, and any
caption encoding that keeps which words occur already aligns captions with the
images they describe. :func:`mi_tutor.zoo.untrained` builds a zoo architecture with
random weights from a fixed seed; :func:`bag_of_words` encodes captions by their word
counts, with no model at all.

Examples:
    >>> bag_of_words(torch.tensor([[1, 5, 5, 2, 0]]), vocab_size=6).tolist()
    [[0.0, 1.0, 1.0, 0.0, 0.0, 2.0]]
"""

from __future__ import annotations

import torch

from ..validation import check_tensor

__all__ = ["bag_of_words"]


def bag_of_words(tokens: torch.Tensor, vocab_size: int | None = None, pad: int = 0) -> torch.Tensor:
    """Word counts of each caption: ``[n, pos]`` token ids -> ``[n, vocab_size]`` float counts.

    The padding id counts nothing. Word order and every relation between words are lost: what is
    left is which words a caption uses, and how often.

    Args:
        tokens: ``[n, pos]`` long token ids (e.g. from :func:`~mi_tutor.universality.caption_tokens`).
        vocab_size: Number of ids; the caption vocabulary's size when ``None``.
        pad: The padding id.

    Returns:
        float32 ``[n, vocab_size]`` on ``tokens``' device.
    """
    check_tensor("tokens", tokens, ("n", "pos"), dtype=torch.long)
    if vocab_size is None:
        from .captions import CAPTION_VOCAB

        vocab_size = len(CAPTION_VOCAB)
    if tokens.numel() and int(tokens.max()) >= vocab_size:
        raise ValueError(f"`tokens` holds id {int(tokens.max())}; wanted ids below `vocab_size` = {vocab_size}")
    counts = torch.zeros(len(tokens), vocab_size, device=tokens.device)
    counts.scatter_add_(1, tokens, torch.ones_like(tokens, dtype=counts.dtype))
    counts[:, pad] = 0
    return counts
