"""Circuit evaluation as Wang et al. (2023) define it: knock out everything outside a circuit.

A circuit is a set of heads ``(layer, head)``, optionally restricted to
positions (``{(layer, head): positions}``). Every head *outside* it (or
outside its positions) is mean-ablated: its output ``hook_z`` is replaced by
its mean over a reference distribution (ABC prompts), per group (template) so
positions line up. ``F(C)`` is the metric (e.g. logit difference) of the
model so knocked out, ``F(M)`` the metric of the whole model.

* **faithfulness**: ``F(C) / F(M)`` close to 1 (Wang et al. report
  ``|F(M) - F(C)|``, 13% of ``F(M)`` for their circuit);
* **completeness**: for subsets ``K`` of the circuit,
  ``|F(C \\ K) - F(M \\ K)|`` stays small;
* **minimality**: every ``v`` in the circuit has some ``K`` with
  ``|F(C \\ (K + v)) - F(C \\ K)|`` large.

Examples:
    >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig
    >>> model = HookedTransformer(TransformerConfig(n_layers=2, n_heads=2, d_vocab=10, n_ctx=5))
    >>> x = torch.randint(0, 10, (6, 5))
    >>> metric = lambda logits: logits[:, -1, 0].mean()
    >>> scores = faithfulness(model, x, [(1, 0)], reference=x, metric=metric)
    >>> round(scores.f_model, 4) == round(metric(model(x)).item(), 4)
    True
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from .ablation import ablation_values
from .core import Positions, run_hooked, site_mask

__all__ = ["Head", "CircuitScores", "all_heads", "knockout_metric", "faithfulness", "completeness", "minimality",
           "random_circuit"]

Head = tuple[int, int]
Circuit = Iterable[Head] | Mapping[Head, Positions]


@dataclass
class CircuitScores:
    """``F(M)``, ``F(C)`` and ``F(empty)`` (everything knocked out), and their ratios."""

    f_model: float
    f_circuit: float
    f_empty: float

    @property
    def faithfulness(self) -> float:
        """``F(C) / F(M)``: the fraction of the model's metric the circuit keeps."""
        return self.f_circuit / self.f_model

    @property
    def gap(self) -> float:
        """``|F(M) - F(C)|`` (Wang et al.'s faithfulness criterion)."""
        return abs(self.f_model - self.f_circuit)


def all_heads(model: nn.Module) -> list[Head]:
    """Every ``(layer, head)`` of a transformer."""
    return [(L, h) for L in range(model.cfg.n_layers) for h in range(model.cfg.n_heads)]


def _as_dict(model: nn.Module, circuit: Circuit) -> dict[Head, Positions]:
    valid = set(all_heads(model))
    items = circuit.items() if isinstance(circuit, Mapping) else ((h, None) for h in circuit)
    out = {}
    for head, pos in items:
        head = tuple(int(x) for x in head)
        if head not in valid:
            raise IndexError(f"`circuit` has head {head} but the model's heads are (layer 0..{model.cfg.n_layers - 1}, "
                             f"head 0..{model.cfg.n_heads - 1})")
        out[head] = pos
    return out


def knockout_metric(model: nn.Module, inputs: torch.Tensor, circuit: Circuit, reference: torch.Tensor,
                    metric: Callable[[torch.Tensor], torch.Tensor], groups: torch.Tensor | None = None,
                    reference_groups: torch.Tensor | None = None, means: dict | None = None) -> float:
    """``F(C)``: the metric with every head outside ``circuit`` mean-ablated.

    Args:
        model: A :class:`~mi_tutor.transformer.HookedTransformer`.
        inputs: Tokens ``[batch, pos]``.
        circuit: Heads kept, as a list of ``(layer, head)`` or a dict
            ``{(layer, head): positions}`` (kept only at those positions).
        reference: Tokens of the reference distribution the means come from.
        metric: ``logits -> scalar``.
        groups: ``[batch]`` group (template) of each prompt, for per-group means.
        reference_groups: ``[n_reference]`` groups of the reference prompts.
        means: Precomputed ``{hook name: mean}`` (saves passes when called often).
    """
    keep = _as_dict(model, circuit)
    fwd = []
    for L in range(model.cfg.n_layers):
        name = f"blocks.{L}.attn.hook_z"
        mean = means[name] if means is not None else ablation_values(
            model, inputs, name, "mean", reference, groups=groups, reference_groups=reference_groups)

        def fn(a, h, L=L, mean=mean):
            knocked = torch.ones(a.shape, dtype=torch.bool, device=a.device)
            for (layer, head), pos in keep.items():
                if layer == L:
                    knocked &= ~site_mask(h.name, a.shape, pos, [head], device=a.device)
            return torch.where(knocked, mean.to(a.device).expand_as(a), a)

        fwd.append((name, fn))
    with torch.no_grad():
        return float(metric(run_hooked(model, inputs, fwd)))


def _means(model, inputs, reference, groups, reference_groups):
    return {f"blocks.{L}.attn.hook_z": ablation_values(model, inputs, f"blocks.{L}.attn.hook_z", "mean", reference,
                                                       groups=groups, reference_groups=reference_groups)
            for L in range(model.cfg.n_layers)}


def faithfulness(model: nn.Module, inputs: torch.Tensor, circuit: Circuit, reference: torch.Tensor,
                 metric: Callable[[torch.Tensor], torch.Tensor], groups: torch.Tensor | None = None,
                 reference_groups: torch.Tensor | None = None) -> CircuitScores:
    """``F(M)``, ``F(C)`` and ``F(empty)`` of ``circuit`` (see :func:`knockout_metric` for the arguments)."""
    means = _means(model, inputs, reference, groups, reference_groups)
    with torch.no_grad():
        f_model = float(metric(model(inputs)))
    return CircuitScores(f_model=f_model,
                         f_circuit=knockout_metric(model, inputs, circuit, reference, metric, means=means),
                         f_empty=knockout_metric(model, inputs, [], reference, metric, means=means))


def _subsets(heads: list[Head]) -> list[tuple[Head, ...]]:
    return [k for r in range(len(heads) + 1) for k in itertools.combinations(heads, r)]


def completeness(model: nn.Module, inputs: torch.Tensor, circuit: Iterable[Head], reference: torch.Tensor,
                 metric: Callable[[torch.Tensor], torch.Tensor], subsets: Iterable[Iterable[Head]] | None = None,
                 groups: torch.Tensor | None = None, reference_groups: torch.Tensor | None = None
                 ) -> dict[tuple[Head, ...], float]:
    """``|F(C \\ K) - F(M \\ K)|`` for every ``K`` (default: every subset of the circuit).

    Returns:
        ``{K: gap}``; a complete circuit has every gap small.
    """
    circuit = list(_as_dict(model, circuit))
    everything = all_heads(model)
    means = _means(model, inputs, reference, groups, reference_groups)
    out = {}
    for k in (_subsets(circuit) if subsets is None else [tuple(map(tuple, s)) for s in subsets]):
        f_c = knockout_metric(model, inputs, [h for h in circuit if h not in k], reference, metric, means=means)
        f_m = knockout_metric(model, inputs, [h for h in everything if h not in k], reference, metric, means=means)
        out[tuple(k)] = abs(f_c - f_m)
    return out


def minimality(model: nn.Module, inputs: torch.Tensor, circuit: Iterable[Head], reference: torch.Tensor,
               metric: Callable[[torch.Tensor], torch.Tensor], groups: torch.Tensor | None = None,
               reference_groups: torch.Tensor | None = None) -> dict[Head, float]:
    """For each ``v`` in the circuit: ``max_K |F(C \\ (K + v)) - F(C \\ K)|`` over ``K`` in ``C - v``.

    Returns:
        ``{v: score}``; a minimal circuit has every score clearly above 0.
    """
    circuit = list(_as_dict(model, circuit))
    means = _means(model, inputs, reference, groups, reference_groups)
    cache: dict[frozenset, float] = {}

    def f(kept):
        key = frozenset(kept)
        if key not in cache:
            cache[key] = knockout_metric(model, inputs, list(kept), reference, metric, means=means)
        return cache[key]

    out = {}
    for v in circuit:
        rest = [h for h in circuit if h != v]
        out[v] = max(abs(f([h for h in circuit if h not in k and h != v]) - f([h for h in circuit if h not in k]))
                     for k in _subsets(rest))
    return out


def random_circuit(model: nn.Module, size: int, seed: int = 0, exclude: Iterable[Head] = (),
                   n_pos: int | None = None) -> list[Head] | dict[Head, list[int]]:
    """``size`` heads (or, with ``n_pos``, ``size`` (head, position) pairs) drawn at random.

    The control a found circuit is compared with; with ``n_pos`` the result is
    a dict ``{(layer, head): [positions]}`` as :func:`knockout_metric` takes.
    """
    excluded = set(map(tuple, exclude))
    heads = [h for h in all_heads(model) if h not in excluded]
    pool = heads if n_pos is None else [(h, p) for h in heads for p in range(n_pos)]
    if size > len(pool):
        raise ValueError(f"`size` is {size} but only {len(pool)} heads or (head, position) pairs can be drawn")
    g = torch.Generator().manual_seed(seed)
    picked = [pool[i] for i in torch.randperm(len(pool), generator=g)[:size].tolist()]
    if n_pos is None:
        return picked
    out: dict[Head, list[int]] = {}
    for head, p in picked:
        out.setdefault(head, []).append(p)
    return out
