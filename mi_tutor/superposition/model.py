"""The toy models of superposition: ``x' = ReLU(W^T W x + b)``, many instances at once.

An *instance* is an independent copy of the model with its own weights,
importances and feature probability. Every tensor carries an instances axis
so that a whole sweep (say ten sparsities) trains as one batched model, on
the CPU or a GPU, in the time one model takes.

Shapes (nanoGPT style): ``b`` batch, ``i`` instances, ``f`` features,
``h`` hidden dimensions. ``W`` is ``[i, f, h]``: row ``W[k, j]`` is the
direction in which instance ``k`` embeds feature ``j``.

Examples:
    >>> model = ToyModel(ToyModelConfig(n_features=5, d_hidden=2, n_instances=3))
    >>> model(torch.rand(8, 3, 5)).shape
    torch.Size([8, 3, 5])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..validation import check_tensor
from .data import as_instance_tensor, generate_batch

__all__ = ["ToyModelConfig", "ToyModel", "toy_forward", "importance_weighted_loss"]


@dataclass
class ToyModelConfig:
    """Size of a batched toy model.

    Attributes:
        n_features: Number of input features ``n``.
        d_hidden: Hidden dimensions ``m`` (the bottleneck).
        n_instances: Independent models trained side by side.
        hidden_relu: Apply a ReLU to the hidden layer too (the privileged-basis
            variant ``x' = ReLU(W^T ReLU(W x) + b)``).
    """

    n_features: int = 5
    d_hidden: int = 2
    n_instances: int = 1
    hidden_relu: bool = False


def toy_forward(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor, hidden_relu: bool = False) -> torch.Tensor:
    """Run the toy model ``x' = ReLU(W^T W x + b)`` for every instance.

    Args:
        W: ``[n_instances, n_features, d_hidden]`` embedding of each feature.
        b: ``[n_instances, n_features]`` output bias.
        x: ``[batch, n_instances, n_features]`` features.
        hidden_relu: Apply a ReLU to the hidden activations (privileged basis).

    Returns:
        ``[batch, n_instances, n_features]`` reconstruction.

    Examples:
        >>> W = torch.eye(2)[None]          # one instance, 2 features, 2 dims
        >>> toy_forward(W, torch.zeros(1, 2), torch.tensor([[[0.5, 0.2]]]))
        tensor([[[0.5000, 0.2000]]])
    """
    dims = check_tensor("W", W, ("n_instances", "n_features", "d_hidden"), floating=True)
    check_tensor("b", b, ("n_instances", "n_features"), dims=dims)
    check_tensor("x", x, ("batch", "n_instances", "n_features"), dims=dims)
    hidden = torch.einsum("bif,ifh->bih", x, W)          # [b, i, h]
    if hidden_relu:
        hidden = torch.relu(hidden)
    out = torch.einsum("bih,ifh->bif", hidden, W) + b    # [b, i, f]
    return torch.relu(out)


def importance_weighted_loss(x: torch.Tensor, x_hat: torch.Tensor, importance: torch.Tensor) -> torch.Tensor:
    """Importance-weighted squared error, one number per instance.

    ``L_k = mean_{batch, features} I_{k,j} (x_{k,j} - x'_{k,j})^2``; train on
    the sum over instances (instances do not interact, so each gets its own
    gradient).

    Args:
        x: ``[batch, n_instances, n_features]`` inputs.
        x_hat: ``[batch, n_instances, n_features]`` reconstructions.
        importance: ``[n_instances, n_features]`` (or ``[n_features]``) weights.

    Returns:
        ``[n_instances]`` loss of each instance.

    Examples:
        >>> x = torch.ones(4, 2, 3)
        >>> importance_weighted_loss(x, torch.zeros_like(x), torch.tensor([1.0, 0.0, 0.0]))
        tensor([0.3333, 0.3333])
    """
    dims = check_tensor("x", x, ("batch", "n_instances", "n_features"), floating=True)
    check_tensor("x_hat", x_hat, ("batch", "n_instances", "n_features"), dims=dims)
    imp = as_instance_tensor("importance", importance, dims["n_instances"], dims["n_features"]).to(x.device)
    return (imp * (x - x_hat) ** 2).mean(dim=(0, 2))


class ToyModel(nn.Module):
    """A batch of toy models with importances and feature probabilities attached.

    The hidden activations pass through ``hook_hidden`` (an identity module),
    so ``mi_tutor.run_with_cache(model, x, ["hook_hidden"])`` records them.

    Args:
        cfg: Sizes.
        importance: Per-feature weights of the loss, ``[n_features]`` or
            ``[n_instances, n_features]`` (default: all 1).
        feature_probability: Probability that a feature is non-zero,
            ``[n_instances]`` or ``[n_instances, n_features]`` in ``[0, 1]``
            (default: all 1, dense).

    Examples:
        >>> cfg = ToyModelConfig(n_features=5, d_hidden=2, n_instances=2)
        >>> model = ToyModel(cfg, importance=0.9 ** torch.arange(5.0),
        ...                  feature_probability=torch.tensor([1.0, 0.05]))
        >>> model.W.shape, model.generate_batch(16).shape
        (torch.Size([2, 5, 2]), torch.Size([16, 2, 5]))
    """

    def __init__(
        self,
        cfg: ToyModelConfig | None = None,
        importance: float | torch.Tensor = 1.0,
        feature_probability: float | torch.Tensor = 1.0,
    ):
        super().__init__()
        self.cfg = cfg = cfg or ToyModelConfig()
        if cfg.n_features < 1 or cfg.d_hidden < 1 or cfg.n_instances < 1:
            raise ValueError(f"ToyModelConfig sizes must be positive, got {cfg}")
        n_i, n_f = cfg.n_instances, cfg.n_features
        imp = as_instance_tensor("importance", importance, n_i, n_f, vector="features")
        prob = as_instance_tensor("feature_probability", feature_probability, n_i, n_f, vector="instances")
        if (prob < 0).any() or (prob > 1).any():
            raise ValueError(
                f"`feature_probability` must lie in [0, 1] but has values from {prob.min():g} to {prob.max():g}"
            )
        self.register_buffer("importance", imp)               # [i, f]
        self.register_buffer("feature_probability", prob)     # [i, f]
        self.W = nn.Parameter(torch.empty(n_i, n_f, cfg.d_hidden))
        nn.init.xavier_normal_(self.W)
        self.b = nn.Parameter(torch.zeros(n_i, n_f))
        self.hook_hidden = nn.Identity()

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """Hidden activations ``[batch, n_instances, d_hidden]`` of ``x`` ``[batch, n_instances, n_features]``."""
        check_tensor("x", x, ("batch", self.cfg.n_instances, self.cfg.n_features))
        h = torch.einsum("bif,ifh->bih", x, self.W)
        if self.cfg.hidden_relu:
            h = torch.relu(h)
        return self.hook_hidden(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct ``x``: ``[batch, n_instances, n_features]`` -> same shape."""
        h = self.hidden(x)
        return torch.relu(torch.einsum("bih,ifh->bif", h, self.W) + self.b)

    def generate_batch(self, n_batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """A batch ``[n_batch, n_instances, n_features]`` drawn with this model's feature probabilities."""
        return generate_batch(n_batch, self.feature_probability, generator=generator)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Per-instance importance-weighted loss ``[n_instances]`` on the batch ``x``."""
        return importance_weighted_loss(x, self(x), self.importance)

    def extra_repr(self) -> str:
        c = self.cfg
        return (f"n_instances={c.n_instances}, n_features={c.n_features}, d_hidden={c.d_hidden}, "
                f"hidden_relu={c.hidden_relu}")


