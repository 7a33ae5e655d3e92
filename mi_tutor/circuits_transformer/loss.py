"""Per-token loss and the in-context-learning score.

Examples:
    >>> logits = torch.zeros(1, 4, 10)  # uniform predictions
    >>> loss = per_token_loss(logits, torch.tensor([[1, 2, 3, 4]]))
    >>> round(loss[0, 0].item(), 4)  # log(10)
    2.3026
"""

from __future__ import annotations

import torch

from ..validation import ShapeError, check_tensor

__all__ = ["per_token_loss", "in_context_learning_score"]


def per_token_loss(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of predicting each next token.

    Args:
        logits: ``[batch, pos, d_vocab]``.
        tokens: The input tokens ``[batch, pos]``.

    Returns:
        ``[batch, pos - 1]``: entry ``p`` is ``-log softmax(logits[:, p])[tokens[:, p + 1]]``.
    """
    dims = check_tensor("logits", logits, ("batch", "pos", "d_vocab"), floating=True)
    check_tensor("tokens", tokens, ("batch", "pos"), dims=dims)
    logprobs = logits[:, :-1].log_softmax(dim=-1)  # [batch, pos - 1, d_vocab]
    return -logprobs.gather(-1, tokens[:, 1:, None].to(logits.device))[..., 0]


def in_context_learning_score(loss: torch.Tensor, early: int, late: int) -> torch.Tensor:
    """How much lower the loss is late in the context than early: ``mean loss[:, early] - mean loss[:, late]``.

    Olsson et al. (2022) compare the 50th and the 500th token; a positive score
    means the model uses the context to predict better. (The paper subtracts
    the other way round; we keep the sign that makes "learns in context" positive.)

    Args:
        loss: Per-token loss ``[batch, pos]`` (from :func:`per_token_loss`).
        early: The early position.
        late: The late position (``-1`` allowed for the last one).

    Returns:
        A scalar tensor (nats).
    """
    check_tensor("loss", loss, ("batch", "pos"), floating=True)
    n = loss.shape[1]
    for name, p in (("early", early), ("late", late)):
        if not -n <= p < n:
            raise ShapeError(f"`{name}`={p} is outside the {n} positions of `loss` (shape {tuple(loss.shape)})")
    return loss[:, early].mean() - loss[:, late].mean()
