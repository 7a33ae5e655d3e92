"""The symbiote: a small network that reads a host's layers and writes gates into one.

It reads the spatially pooled activations of one or more host layers
(standardised with statistics taken on the host's data), passes them through a
small trunk and has two heads:

* the **concept head** predicts which of the world's concepts an image holds
  (multi-label logits, one per concept);
* the **gate head** gives per-channel inhibition logits ``log_alpha`` for the
  gated layer; the gates are ``g = 1 - z`` with ``z`` hard-concrete
  (``mi_tutor.symbiote.gates``). With ``conditional=True`` the gates depend on
  the image (DiffMask-style); with ``conditional=False`` they are one learned
  vector for every image, so that closing a channel is a claim about the
  channel, not about the image.

Examples:
    >>> import torch, torch.nn as nn
    >>> cfg = SymbioteConfig(read_layers=("1",), gate_layer="1", concepts=("a", "b"))
    >>> sym = Symbiote(cfg, {"1": 4}, gate_width=4)
    >>> logits, log_alpha = sym({"1": torch.rand(3, 4)})
    >>> logits.shape, log_alpha.shape
    (torch.Size([3, 2]), torch.Size([3, 4]))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .. import hooks as H
from ..validation import check_module_name, check_tensor
from .gates import hard_concrete_mean, hard_concrete_sample, run_gated
from .reading import layer_width

__all__ = ["SymbioteConfig", "Symbiote", "build_symbiote"]


@dataclass
class SymbioteConfig:
    """Shape of a symbiote.

    Attributes:
        read_layers: Host layers it reads (pooled).
        gate_layer: Host layer whose channels it gates.
        concepts: Names of the concepts the concept head predicts.
        target: The concept the gate head learns to suppress (one of ``concepts``; ``None``: the first).
        hidden: Width of the trunk.
        conditional: Gates depend on the image (``True``) or are one vector (``False``).
        init_log_alpha: Initial inhibition logit (negative: gates start open).
        seed: Seeds the initial weights.
    """

    read_layers: tuple[str, ...]
    gate_layer: str
    concepts: tuple[str, ...]
    target: str | None = None
    hidden: int = 64
    conditional: bool = False
    init_log_alpha: float = -2.0
    seed: int = 0

    def __post_init__(self):
        self.read_layers = (self.read_layers,) if isinstance(self.read_layers, str) else tuple(self.read_layers)
        self.concepts = tuple(self.concepts)
        if not self.read_layers:
            raise ValueError("`read_layers` is empty: the symbiote must read at least one host layer")
        if not self.concepts:
            raise ValueError("`concepts` is empty: name at least one concept")
        if self.target is None:
            self.target = self.concepts[0]
        if self.target not in self.concepts:
            raise KeyError(f"`target`={self.target!r} is not one of `concepts` {list(self.concepts)}")


class Symbiote(nn.Module):
    """Reads pooled host activations, predicts concepts and per-channel gates.

    Args:
        cfg: The :class:`SymbioteConfig`.
        read_widths: Channels of each read layer (name -> width).
        gate_width: Channels of ``cfg.gate_layer``.
    """

    def __init__(self, cfg: SymbioteConfig, read_widths: Mapping[str, int], gate_width: int):
        super().__init__()
        self.cfg = cfg
        missing = [n for n in cfg.read_layers if n not in read_widths]
        if missing:
            raise KeyError(f"`read_widths` lacks {missing}: give the width of every read layer")
        self.read_widths = {n: int(read_widths[n]) for n in cfg.read_layers}
        self.gate_width = int(gate_width)
        d_in = sum(self.read_widths.values())
        g = torch.Generator().manual_seed(cfg.seed)
        self.register_buffer("mean", torch.zeros(d_in))
        self.register_buffer("std", torch.ones(d_in))
        self.trunk = nn.Sequential(nn.Linear(d_in, cfg.hidden), nn.ReLU())
        self.concept_head = nn.Linear(cfg.hidden, len(cfg.concepts))
        self.gate_bias = nn.Parameter(torch.full((self.gate_width,), float(cfg.init_log_alpha)))
        self.gate_head = nn.Linear(cfg.hidden, self.gate_width) if cfg.conditional else None
        with torch.no_grad():
            for p in self.parameters():
                if p is not self.gate_bias:
                    p.copy_(torch.randn(p.shape, generator=g) * (1.0 / max(p.shape[-1], 1)) ** 0.5
                            if p.dim() > 1 else torch.zeros(p.shape))
            if self.gate_head is not None:
                self.gate_head.weight.mul_(0.1)

    # ---------------------------------------------------------------- pure functions of pooled activations
    def features(self, pooled: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Concatenate and standardise the read layers: ``{name: [n, C]}`` -> ``[n, D]``."""
        parts = []
        for name in self.cfg.read_layers:
            if name not in pooled:
                raise KeyError(f"`pooled` has no entry for read layer {name!r} (has {list(pooled)})")
            check_tensor(f"pooled[{name!r}]", pooled[name], ("n", self.read_widths[name]), floating=True)
            parts.append(pooled[name])
        x = torch.cat(parts, -1)
        return (x - self.mean) / self.std

    def forward(self, pooled: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """``{layer: [n, C]}`` -> ``(concept_logits [n, K], log_alpha [n, gate_width])``."""
        h = self.trunk(self.features(pooled))
        log_alpha = self.gate_bias.expand(h.shape[0], -1)
        if self.gate_head is not None:
            log_alpha = log_alpha + self.gate_head(h)
        return self.concept_head(h), log_alpha

    def gates_from(self, log_alpha: torch.Tensor, sample: bool = False,
                   generator: torch.Generator | None = None) -> torch.Tensor:
        """Gates ``1 - z`` in ``[0, 1]``: a hard-concrete sample (training) or its test-time value."""
        z = hard_concrete_sample(log_alpha, generator) if sample else hard_concrete_mean(log_alpha)
        return 1 - z

    def fit_standardisation(self, pooled: Mapping[str, torch.Tensor]) -> "Symbiote":
        """Set the input mean and std from ``{layer: [n, C]}`` of the host's data."""
        x = torch.cat([pooled[n] for n in self.cfg.read_layers], -1)
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0).clamp_min(1e-4))
        return self

    # ---------------------------------------------------------------- with the host
    def read(self, host: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The pooled read layers of ``host`` on ``x`` (detached)."""
        return H.collect(host, x, self.cfg.read_layers, pool="mean")

    @torch.no_grad()
    def concept_logits(self, host: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """``[n, K]`` concept logits of the images ``x`` read through ``host``."""
        return self(self.read(host, x))[0]

    @torch.no_grad()
    def gates(self, host: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """``[n, gate_width]`` test-time gates for the images ``x``."""
        return self.gates_from(self(self.read(host, x))[1])

    @torch.no_grad()
    def inhibit(self, host: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """The host's output on ``x`` with the symbiote's gates in ``cfg.gate_layer``."""
        return run_gated(host, x, self.cfg.gate_layer, self.gates(host, x))

    def describe(self) -> dict:
        """The config as a plain dict (stored with shipped weights)."""
        return {**asdict(self.cfg), "read_widths": self.read_widths, "gate_width": self.gate_width}


def build_symbiote(host: nn.Module, x: torch.Tensor, cfg: SymbioteConfig) -> Symbiote:
    """A fresh symbiote for ``host``, with widths and standardisation taken from images ``x``.

    Raises:
        KeyError: naming ``read_layers`` or ``gate_layer`` when the host lacks that layer.

    Examples:
        >>> import torch.nn as nn
        >>> host = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
        >>> sym = build_symbiote(host, torch.rand(6, 3, 8, 8), SymbioteConfig(("1",), "1", ("a",)))
        >>> sym.gate_width
        4
    """
    for layer in cfg.read_layers:
        check_module_name("read_layers", layer, host)
    check_module_name("gate_layer", cfg.gate_layer, host)
    pooled = H.collect(host, x, cfg.read_layers, pool="mean")
    widths = {n: a.shape[1] for n, a in pooled.items()}
    dev = x.device
    sym = Symbiote(cfg, widths, layer_width(host, cfg.gate_layer, x)).to(dev)
    return sym.fit_standardisation(pooled)
