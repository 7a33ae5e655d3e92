"""Metrics of patching experiments: the logit difference and its normalised version.

Examples:
    >>> logits = torch.tensor([[[0.0, 3.0, 1.0]]])  # [batch=1, pos=1, vocab=3]
    >>> logit_diff(logits, torch.tensor([1]), torch.tensor([2])).item()
    2.0
    >>> normalized_metric(torch.tensor(2.0), clean=2.0, corrupt=-2.0).item()
    1.0
"""

from __future__ import annotations

import torch

from ..validation import ShapeError

__all__ = ["logit_diff", "normalized_metric"]


def logit_diff(logits: torch.Tensor, correct: torch.Tensor, wrong: torch.Tensor, position: int | torch.Tensor = -1,
               reduce: bool = True) -> torch.Tensor:
    """``logit[correct] - logit[wrong]`` at ``position`` (IO minus S for IOI).

    Args:
        logits: ``[batch, pos, d_vocab]`` or already at one position ``[batch, d_vocab]``.
        correct: ``[batch]`` token ids of the right answer.
        wrong: ``[batch]`` token ids of the wrong answer.
        position: The position read (default the last), an int or a ``[batch]`` tensor.
        reduce: Average over the batch (a scalar) or not (``[batch]``).

    Returns:
        A scalar tensor, or ``[batch]`` when ``reduce`` is False.
    """
    if not isinstance(logits, torch.Tensor) or logits.dim() not in (2, 3):
        got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ShapeError(f"`logits` has shape {got} but expected (batch, pos, d_vocab) or (batch, d_vocab)")
    batch = logits.shape[0]
    if logits.dim() == 3:
        rows = torch.arange(batch, device=logits.device)
        logits = logits[rows, torch.as_tensor(position, device=logits.device)]
    for name, ids in (("correct", correct), ("wrong", wrong)):
        if not isinstance(ids, torch.Tensor) or ids.shape != (batch,):
            got = tuple(ids.shape) if isinstance(ids, torch.Tensor) else type(ids).__name__
            raise ShapeError(f"`{name}` has shape {got} but expected ({batch},): one token id per prompt")
    rows = torch.arange(batch, device=logits.device)
    diff = logits[rows, correct.to(logits.device)] - logits[rows, wrong.to(logits.device)]
    return diff.mean() if reduce else diff


def normalized_metric(value: torch.Tensor | float, clean: torch.Tensor | float,
                      corrupt: torch.Tensor | float) -> torch.Tensor:
    """``(value - corrupt) / (clean - corrupt)``: 1 at the clean value, 0 at the corrupt one.

    Raises:
        ValueError: if ``clean == corrupt`` (the metric is undefined).
    """
    value, clean, corrupt = (torch.as_tensor(v, dtype=torch.float32) for v in (value, clean, corrupt))
    gap = clean - corrupt
    if torch.any(gap == 0):
        raise ValueError(f"normalized_metric: `clean` ({clean.tolist()}) equals `corrupt`; the metric is undefined")
    return (value - corrupt) / gap
