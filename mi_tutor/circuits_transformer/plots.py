"""Figures of lesson 8. Every helper returns ``(fig, data)``: the numbers behind the figure.

Examples:
    >>> fig, data = plot_head_scores(torch.rand(2, 4), title="induction")
    >>> data.shape
    torch.Size([2, 4])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import product

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from ..validation import check_tensor

__all__ = [
    "plot_attention_patterns",
    "plot_head_scores",
    "plot_per_token_loss",
    "plot_phase_change",
    "plot_ov_circuit",
    "plot_composition_scores",
]


def _cpu(x: torch.Tensor) -> torch.Tensor:
    return x.detach().float().cpu()


def plot_attention_patterns(pattern: torch.Tensor, title: str = "", max_heads: int = 8) -> tuple[Figure, torch.Tensor]:
    """Heatmaps of one sequence's attention patterns, one panel per head.

    Args:
        pattern: ``[head, query_pos, key_pos]``.
        title: Figure title.
        max_heads: At most this many panels.

    Returns:
        ``(fig, pattern)`` with the plotted patterns on the CPU.
    """
    check_tensor("pattern", pattern, ("head", "query_pos", "key_pos"), floating=True)
    data = _cpu(pattern[:max_heads])
    n = data.shape[0]
    fig, axes = plt.subplots(1, n, figsize=(2.4 * n, 2.6), squeeze=False)
    for h, ax in enumerate(axes[0]):
        ax.imshow(data[h].numpy(), cmap="Blues", vmin=0, vmax=1)
        ax.set_title(f"head {h}", fontsize=9)
        ax.set_xlabel("key position", fontsize=8)
        ax.set_xticks([]), ax.set_yticks([])
    axes[0, 0].set_ylabel("query position", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig, data


def plot_head_scores(scores: torch.Tensor | Mapping[str, torch.Tensor], title: str = ""
                     ) -> tuple[Figure, torch.Tensor | dict[str, torch.Tensor]]:
    """Heatmap(s) of per-head scores ``[n_layers, n_heads]``, annotated with the values.

    Args:
        scores: One ``[n_layers, n_heads]`` tensor or a dict of them (one panel each).
        title: Figure title.

    Returns:
        ``(fig, data)``: the tensor, or the dict of tensors, on the CPU.
    """
    panels = dict(scores) if isinstance(scores, Mapping) else {title: scores}
    for name, s in panels.items():
        check_tensor(f"scores[{name!r}]", s, ("n_layers", "n_heads"), floating=True)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 2.6), squeeze=False)
    data = {k: _cpu(v) for k, v in panels.items()}
    for ax, (name, s) in zip(axes[0], data.items()):
        im = ax.imshow(s.numpy(), cmap="viridis", vmin=0, vmax=1, aspect="auto")
        for (layer, head), v in zip(product(range(s.shape[0]), range(s.shape[1])), s.flatten().tolist()):
            ax.text(head, layer, f"{v:.2f}", ha="center", va="center", fontsize=7, color="w" if v < 0.6 else "k")
        ax.set_xlabel("head"), ax.set_ylabel("layer"), ax.set_title(name, fontsize=10)
        ax.set_xticks(range(s.shape[1])), ax.set_yticks(range(s.shape[0]))
        fig.colorbar(im, ax=ax, fraction=0.05)
    if isinstance(scores, Mapping):
        fig.suptitle(title)
    fig.tight_layout()
    return fig, data if isinstance(scores, Mapping) else data[title]


def plot_per_token_loss(losses: Mapping[str, torch.Tensor], split: int | None = None, title: str = ""
                        ) -> tuple[Figure, dict[str, torch.Tensor]]:
    """Mean loss at every position, one line per model.

    Args:
        losses: ``{label: per-token loss [batch, pos]}``.
        split: Draw a vertical line here (e.g. where the repeat starts).
        title: Figure title.

    Returns:
        ``(fig, {label: mean loss per position [pos]})``.
    """
    data = {}
    fig, ax = plt.subplots()
    for label, loss in losses.items():
        check_tensor(f"losses[{label!r}]", loss, ("batch", "pos"), floating=True)
        data[label] = _cpu(loss).mean(0)
        ax.plot(data[label].numpy(), label=label)
    if split is not None:
        ax.axvline(split, color="grey", ls="--", lw=1)
    ax.set_xlabel("position"), ax.set_ylabel("loss (nats)"), ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig, data


def plot_phase_change(steps: Sequence[int], series: Mapping[str, Sequence[float]], title: str = ""
                      ) -> tuple[Figure, dict[str, torch.Tensor]]:
    """Curves over training checkpoints (e.g. induction score, in-context-learning score, loss).

    Args:
        steps: Training step of each checkpoint.
        series: ``{name: one value per checkpoint}``; each gets its own panel.
        title: Figure title.

    Returns:
        ``(fig, {"steps": tensor, name: tensor, ...})``.
    """
    data = {"steps": torch.as_tensor(list(steps), dtype=torch.float32)}
    fig, axes = plt.subplots(1, len(series), figsize=(3.4 * len(series), 2.8), squeeze=False)
    for ax, (name, values) in zip(axes[0], series.items()):
        values = torch.as_tensor([float(v) for v in values])
        if len(values) != len(data["steps"]):
            raise ValueError(f"series {name!r} has {len(values)} values but there are {len(data['steps'])} steps")
        data[name] = values
        ax.plot(data["steps"].numpy(), values.numpy(), marker="o", ms=3)
        ax.set_xlabel("training step"), ax.set_title(name, fontsize=10)
    fig.suptitle(title)
    fig.tight_layout()
    return fig, data


def plot_ov_circuit(matrix: torch.Tensor, title: str = "") -> tuple[Figure, torch.Tensor]:
    """Heatmap of a full OV circuit ``[d_vocab, d_vocab]`` (a bright diagonal means copying).

    Returns:
        ``(fig, matrix)`` on the CPU.
    """
    check_tensor("matrix", matrix, ("n", "n"), floating=True)
    data = _cpu(matrix)
    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    lim = data.abs().max().item()
    im = ax.imshow(data.numpy(), cmap="RdBu", vmin=-lim, vmax=lim)
    ax.set_xlabel("output logit (token)"), ax.set_ylabel("attended token"), ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.05)
    fig.tight_layout()
    return fig, data


def plot_composition_scores(scores: Mapping[str, torch.Tensor], baseline: float, title: str = ""
                            ) -> tuple[Figure, dict[str, torch.Tensor]]:
    """One heatmap per composition kind, with the random baseline in the titles.

    Args:
        scores: ``{kind: [n_heads (earlier layer), n_heads (later layer)]}``.
        baseline: The random baseline (see ``random_composition_baseline``).
        title: Figure title.

    Returns:
        ``(fig, {kind: scores on the CPU, "baseline": tensor})``.
    """
    fig, axes = plt.subplots(1, len(scores), figsize=(3.4 * len(scores), 2.9), squeeze=False)
    data: dict[str, torch.Tensor] = {"baseline": torch.tensor(float(baseline))}
    vmax = max(float(s.max()) for s in scores.values())
    for ax, (kind, s) in zip(axes[0], scores.items()):
        check_tensor(f"scores[{kind!r}]", s, ("heads_a", "heads_b"), floating=True)
        data[kind] = _cpu(s)
        im = ax.imshow(data[kind].numpy(), cmap="viridis", vmin=0, vmax=vmax)
        ax.set_title(f"{kind.upper()}-composition (random: {baseline:.3f})", fontsize=9)
        ax.set_xlabel("layer-1 head"), ax.set_ylabel("layer-0 head")
        fig.colorbar(im, ax=ax, fraction=0.05)
    fig.suptitle(title)
    fig.tight_layout()
    return fig, data
