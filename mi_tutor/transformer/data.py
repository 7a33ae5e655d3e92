"""Token sequences for the transformer lessons: repeated random tokens and training streams.

Token 0 is the beginning-of-sequence token ``BOS``; the other ids are ordinary
tokens. Every generator takes a ``seed`` and returns the same tokens for the
same seed.

Examples:
    >>> toks = repeated_random_tokens(batch=2, seq_len=5, d_vocab=20, seed=0)
    >>> toks.shape  # [batch, 1 + 2 * seq_len]
    torch.Size([2, 11])
    >>> bool((toks[:, 1:6] == toks[:, 6:]).all())
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["BOS", "SequenceConfig", "random_tokens", "repeated_random_tokens", "bigram_table", "induction_batch"]

BOS = 0


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def random_tokens(batch: int, seq_len: int, d_vocab: int, seed: int = 0, bos: bool = True,
                  device: torch.device | str | None = None) -> torch.Tensor:
    """Uniform random tokens from ``1 .. d_vocab - 1``, optionally after a ``BOS``.

    Returns:
        Token ids ``[batch, seq_len + bos]`` (int64).
    """
    if d_vocab < 2:
        raise ValueError(f"`d_vocab` must be at least 2 (BOS plus one token) but is {d_vocab}")
    toks = torch.randint(1, d_vocab, (batch, seq_len), generator=_gen(seed))
    if bos:
        toks = torch.cat([torch.full((batch, 1), BOS, dtype=torch.long), toks], dim=1)
    return toks.to(device) if device is not None else toks


def repeated_random_tokens(batch: int, seq_len: int, d_vocab: int, seed: int = 0,
                           device: torch.device | str | None = None) -> torch.Tensor:
    """``[BOS] + r + r``: a random segment ``r`` of ``seq_len`` tokens, then the same segment again.

    The first copy is unpredictable; a model with induction heads predicts the
    second copy almost perfectly. Token ``r[i]`` sits at positions ``1 + i``
    and ``1 + seq_len + i``.

    Args:
        batch: Number of sequences.
        seq_len: Length of the random segment.
        d_vocab: Vocabulary size (tokens are drawn from ``1 .. d_vocab - 1``).
        seed: Seed of the random segment.
        device: Where to put the result.

    Returns:
        Token ids ``[batch, 1 + 2 * seq_len]``.
    """
    r = random_tokens(batch, seq_len, d_vocab, seed=seed, bos=False)
    bos = torch.full((batch, 1), BOS, dtype=torch.long)
    toks = torch.cat([bos, r, r], dim=1)
    return toks.to(device) if device is not None else toks


def bigram_table(d_vocab: int, seed: int = 0, temperature: float = 1.5) -> torch.Tensor:
    """A random next-token distribution per token ``[d_vocab, d_vocab]`` (rows sum to 1, never ``BOS``).

    Larger ``temperature`` makes each row more peaked (more predictable text).
    """
    logits = torch.randn(d_vocab, d_vocab, generator=_gen(seed)) * temperature
    logits[:, BOS] = float("-inf")
    return logits.softmax(-1)


@dataclass
class SequenceConfig:
    """The training stream: bigram "text" in which random spans are repeated later.

    Attributes:
        d_vocab: Vocabulary size (``BOS`` = 0 included).
        n_ctx: Tokens per sequence, ``BOS`` included.
        min_repeat: Shortest repeated span.
        max_repeat: Longest repeated span.
        n_repeats: Spans copied per sequence.
        bigram_seed: Seed of the fixed bigram table behind the background text.
        bigram_temperature: Peakedness of the bigram table (0 gives uniform tokens).
    """

    d_vocab: int = 64
    n_ctx: int = 64
    min_repeat: int = 4
    max_repeat: int = 24
    n_repeats: int = 1
    bigram_seed: int = 1234
    bigram_temperature: float = 1.5


def induction_batch(batch: int, cfg: SequenceConfig | None = None, seed: int = 0) -> torch.Tensor:
    """A batch of the training stream: bigram text with spans repeated later in the sequence.

    Each sequence starts with ``BOS``, continues with tokens sampled from a
    fixed bigram table (learnable by a 0-layer model), and then ``n_repeats``
    times a random earlier span of ``min_repeat..max_repeat`` tokens is copied
    to a random later place. Span lengths and gaps vary, so only an induction
    mechanism, not a fixed positional offset, predicts the copies.

    Returns:
        Token ids ``[batch, n_ctx]``.
    """
    cfg = cfg or SequenceConfig()
    rng = np.random.default_rng(int(seed))
    cdf = bigram_table(cfg.d_vocab, cfg.bigram_seed, cfg.bigram_temperature).double().cumsum(-1).numpy()
    cdf[:, -1] = 1.0
    n = cfg.n_ctx
    toks = np.zeros((batch, n), dtype=np.int64)  # column 0 stays BOS
    toks[:, 1] = rng.integers(1, cfg.d_vocab, batch)
    u = rng.random((batch, n))
    for p in range(2, n):  # background text: inverse-CDF sampling of the next token
        toks[:, p] = (cdf[toks[:, p - 1]] < u[:, p, None]).sum(-1)
    max_len = min(cfg.max_repeat, (n - 1) // 2)
    for b in range(batch):
        for _ in range(cfg.n_repeats):
            length = int(rng.integers(cfg.min_repeat, max_len + 1))
            src = int(rng.integers(1, n - 2 * length + 1))
            dst = int(rng.integers(src + length, n - length + 1))
            toks[b, dst:dst + length] = toks[b, src:src + length]
    return torch.from_numpy(np.minimum(toks, cfg.d_vocab - 1))
