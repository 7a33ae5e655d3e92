"""Training an SAE: Adam, unit-norm decoder rows, and resampling of dead latents.

Examples:
    >>> from mi_tutor.dictionary import SAEConfig, SparseAutoencoder
    >>> sae = SparseAutoencoder(SAEConfig(d_in=4, d_sae=8))
    >>> result = train_sae(sae, torch.randn(256, 4), SAETrainConfig(steps=20), progress=False)
    >>> len(result.history["loss"]) > 0
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from ..validation import check_range, check_tensor
from .sae import SparseAutoencoder, normalize_rows, sae_loss

__all__ = ["SAETrainConfig", "SAETrainResult", "train_sae", "resample_dead_latents"]

DataSource = torch.Tensor | Callable[[int, torch.Generator], torch.Tensor]


@dataclass
class SAETrainConfig:
    """How to train an SAE.

    Attributes:
        steps: Optimiser steps.
        batch_size: Inputs per step.
        lr: Adam learning rate.
        l1_coeff: Overrides the SAE config's coefficient when set.
        resample_every: Resample dead latents every this many steps (0: never).
        dead_window: A latent is dead if it has not fired for this many steps.
        resample_scale: New encoder rows get this times the mean alive encoder norm.
        seed: Seeds batch sampling and resampling.
        log_every: Record metrics every this many steps.
    """

    steps: int = 2000
    batch_size: int = 512
    lr: float = 3e-3
    l1_coeff: float | None = None
    resample_every: int = 0
    dead_window: int = 200
    resample_scale: float = 0.2
    seed: int = 0
    log_every: int = 50


@dataclass
class SAETrainResult:
    """What :func:`train_sae` returns.

    Attributes:
        sae: The trained SAE (trained in place).
        history: ``{"step", "loss", "mse", "l1", "l0", "dead_fraction"}`` -> lists of floats;
            ``dead_fraction`` counts latents silent for ``dead_window`` steps.
        resampled: Number of latents resampled at each resampling step.
    """

    sae: SparseAutoencoder
    history: dict[str, list[float]] = field(default_factory=dict)
    resampled: list[int] = field(default_factory=list)


def _reset_adam_rows(opt: torch.optim.Optimizer, param: torch.Tensor, index: torch.Tensor, dim: int) -> None:
    state = opt.state.get(param, {})
    for key in ("exp_avg", "exp_avg_sq"):
        if key in state:
            state[key].index_fill_(dim, index, 0.0)


@torch.no_grad()
def resample_dead_latents(
    sae: SparseAutoencoder,
    x: torch.Tensor,
    dead: torch.Tensor,
    generator: torch.Generator | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    scale: float = 0.2,
) -> int:
    """Point dead latents at inputs the SAE reconstructs badly.

    Each dead latent gets an input drawn with probability proportional to its
    squared reconstruction loss; its decoder row becomes the unit vector of
    that input (minus ``b_dec``), its encoder column the same vector scaled to
    ``scale`` times the mean norm of the live encoder columns, its encoder bias
    0, and the optimiser forgets their Adam moments.

    Args:
        sae: The SAE, changed in place.
        x: ``[n, d_in]`` inputs to draw from.
        dead: ``[d_sae]`` bool mask of dead latents.
        generator: Random generator on the SAE's device.
        optimizer: An Adam optimiser over the SAE's parameters (optional).
        scale: Encoder scale relative to live latents.

    Returns:
        Number of latents resampled.
    """
    dims = check_tensor("x", x, ("n", sae.cfg.d_in), floating=True)
    check_tensor("dead", dead, (sae.cfg.d_sae,), dtype=torch.bool)
    check_range("scale", scale, 0.0, float("inf"))
    idx = dead.nonzero().flatten()
    if idx.numel() == 0:
        return 0
    x_hat, _ = sae(x)
    loss = ((x - x_hat) ** 2).sum(-1)                                     # [n]
    weights = loss**2
    if weights.sum() <= 0:
        weights = torch.ones_like(weights)
    pick = torch.multinomial(weights, idx.numel(), replacement=dims["n"] < idx.numel(), generator=generator)
    directions = normalize_rows(x[pick] - sae.b_dec)                      # [n_dead, d_in]
    alive = ~dead
    enc_norm = sae.W_enc[:, alive].norm(dim=0).mean() if alive.any() else torch.tensor(1.0, device=x.device)
    sae.W_dec[idx] = directions
    sae.W_enc[:, idx] = directions.T * scale * enc_norm
    sae.b_enc[idx] = 0.0
    if optimizer is not None:
        _reset_adam_rows(optimizer, sae.W_dec, idx, 0)
        _reset_adam_rows(optimizer, sae.W_enc, idx, 1)
        _reset_adam_rows(optimizer, sae.b_enc, idx, 0)
    return int(idx.numel())


def _sampler(data: DataSource, device: torch.device, d_in: int) -> Callable[[int, torch.Generator], torch.Tensor]:
    if callable(data):
        return lambda n, g: data(n, g).to(device)
    check_tensor("data", data, ("n", d_in), floating=True)
    store = data.to(device)
    return lambda n, g: store[torch.randint(store.shape[0], (n,), generator=g, device=device)]


def train_sae(
    sae: SparseAutoencoder,
    data: DataSource,
    cfg: SAETrainConfig | None = None,
    progress: bool = True,
) -> SAETrainResult:
    """Train ``sae`` on ``data`` with Adam, keeping decoder rows at unit norm.

    Args:
        sae: The SAE (trained in place, on its own device).
        data: ``[n, d_in]`` activations to sample batches from, or a function
            ``(n, generator) -> [n, d_in]`` that draws fresh inputs.
        cfg: Training settings.
        progress: Show a tqdm bar with loss and L0.

    Returns:
        A :class:`SAETrainResult`.
    """
    cfg = cfg or SAETrainConfig()
    device = sae.W_dec.device
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    sample = _sampler(data, device, sae.cfg.d_in)
    coeff = sae.cfg.l1_coeff if cfg.l1_coeff is None else cfg.l1_coeff
    opt = torch.optim.Adam(sae.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
    since_fired = torch.zeros(sae.cfg.d_sae, dtype=torch.long, device=device)
    history: dict[str, list[float]] = {k: [] for k in ("step", "loss", "mse", "l1", "l0", "dead_fraction")}
    resampled: list[int] = []
    sae.normalize_decoder_()
    bar = tqdm(range(cfg.steps), desc="SAE", disable=not progress, leave=False)
    for step in bar:
        x = sample(cfg.batch_size, gen)
        x_hat, f = sae(x)
        parts = sae_loss(x, x_hat, f, sae.W_dec, coeff)
        opt.zero_grad(set_to_none=True)
        parts.total.backward()
        sae.remove_parallel_grad_()
        opt.step()
        sae.normalize_decoder_()
        fired = (f > 0).any(0)
        since_fired = torch.where(fired, torch.zeros_like(since_fired), since_fired + 1)
        if cfg.resample_every and (step + 1) % cfg.resample_every == 0 and step + 1 < cfg.steps:
            dead = since_fired >= cfg.dead_window
            pool = sample(8 * cfg.batch_size, gen)
            resampled.append(resample_dead_latents(sae, pool, dead, gen, opt, cfg.resample_scale))
            since_fired[dead] = 0
        if step % cfg.log_every == 0 or step == cfg.steps - 1:
            l0 = (f > 0).float().sum(-1).mean().item()
            history["step"].append(step)
            history["loss"].append(parts.total.item())
            history["mse"].append(parts.mse.item())
            history["l1"].append(parts.l1.item())
            history["l0"].append(l0)
            history["dead_fraction"].append((since_fired >= cfg.dead_window).float().mean().item())
            if progress:
                bar.set_postfix(loss=f"{parts.total.item():.4g}", l0=f"{l0:.2f}")
    sae.eval()
    return SAETrainResult(sae, history, resampled)
