"""Causal tracing (Meng et al. 2022): corrupt the subject, restore one clean state, see what comes back.

The subject's token embeddings get Gaussian noise of ``noise`` x the standard
deviation of the embedding matrix (ROME uses 3); then one activation (a
residual-stream state, an MLP output or an attention output at one layer and
position, or a window of layers) is restored from the clean run. The effect is
the probability of the true answer in the restored run.

Examples:
    >>> from mi_tutor import zoo
    >>> from mi_tutor.tasks.facts import fact_prompts
    >>> model = zoo.load("facts_4l", device="cpu")
    >>> batch = fact_prompts(subjects=range(8))
    >>> result = trace_states(model, batch.tokens, batch.answers, [2, 3], kind="mlp", n_noise=2)
    >>> result.restored.shape  # [n_layers, pos]
    torch.Size([4, 5])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..validation import check_choice, check_position_list, check_tensor

__all__ = ["KINDS", "TraceResult", "embedding_std", "noise_hook", "answer_probability", "corrupted_probability",
           "restored_probability", "trace_states"]

#: What can be restored: hook name of layer ``L`` per kind.
KINDS: dict[str, str] = {"resid": "blocks.{}.hook_resid_post", "mlp": "blocks.{}.hook_mlp_out",
                         "attn": "blocks.{}.hook_attn_out"}


@dataclass
class TraceResult:
    """What :func:`trace_states` measured.

    Attributes:
        restored: ``[n_layers, pos]`` mean probability of the answer with that state restored.
        clean: Mean probability of the answer in the clean run.
        corrupted: Mean probability with the subject corrupted and nothing restored.
        kind: ``"resid"``, ``"mlp"`` or ``"attn"``.
        window: Layers restored together (centred on each layer).
    """

    restored: torch.Tensor
    clean: float
    corrupted: float
    kind: str
    window: int = 1

    @property
    def recovered(self) -> torch.Tensor:
        """``[n_layers, pos]`` share of the clean probability recovered: ``(restored - corrupted) / (clean - corrupted)``."""
        return (self.restored - self.corrupted) / max(self.clean - self.corrupted, 1e-9)


def embedding_std(model) -> float:
    """Standard deviation of the entries of ``W_E`` (ROME's noise unit).

    Examples:
        >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig
        >>> round(embedding_std(HookedTransformer(TransformerConfig(init_range=0.02))), 2)
        0.02
    """
    return float(model.W_E.detach().std())


def noise_hook(positions: list[int], noise: torch.Tensor):
    """A ``hook_embed`` hook adding ``noise [batch, len(positions), d_model]`` at ``positions``."""
    def hook(embed, hook):
        embed = embed.clone()
        embed[:, positions] = embed[:, positions] + noise.to(embed)
        return embed
    return hook


def answer_probability(logits: torch.Tensor, answers: torch.Tensor) -> torch.Tensor:
    """``[batch]`` probability of ``answers`` at the last position of ``logits [batch, pos, d_vocab]``."""
    probs = logits[:, -1].float().softmax(-1)
    return probs[torch.arange(len(answers), device=probs.device), answers.to(probs.device)]


def _noise(model, shape: tuple[int, ...], noise: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g) * noise * embedding_std(model)


@torch.no_grad()
def corrupted_probability(model, tokens: torch.Tensor, answers: torch.Tensor, subject_positions: list[int],
                          noise: float = 3.0, n_noise: int = 10, seed: int = 0) -> float:
    """Mean probability of the answer with the subject's embeddings noised (nothing restored)."""
    out = []
    for i in range(n_noise):
        z = _noise(model, (tokens.shape[0], len(subject_positions), model.cfg.d_model), noise, seed + i)
        logits = model.run_with_hooks(tokens, fwd_hooks=[("hook_embed", noise_hook(subject_positions, z))])
        out.append(answer_probability(logits, answers).mean())
    return float(torch.stack(out).mean())


@torch.no_grad()
def restored_probability(model, tokens: torch.Tensor, answers: torch.Tensor, subject_positions: list[int],
                         restore: list[tuple[str, int]], noise: float = 3.0, n_noise: int = 10,
                         seed: int = 0) -> float:
    """Mean probability of the answer, subject corrupted, with the clean value of every ``(hook name, position)``
    in ``restore`` put back."""
    names = sorted({n for n, _ in restore})
    _, cache = model.run_with_cache(tokens, names_filter=names)
    by_name: dict[str, list[int]] = {}
    for n, p in restore:
        by_name.setdefault(n, []).append(p)

    def restorer(name):
        def hook(act, hook):
            act = act.clone()
            act[:, by_name[name]] = cache[name][:, by_name[name]].to(act)
            return act
        return hook

    out = []
    for i in range(n_noise):
        z = _noise(model, (tokens.shape[0], len(subject_positions), model.cfg.d_model), noise, seed + i)
        hooks = [("hook_embed", noise_hook(subject_positions, z))] + [(n, restorer(n)) for n in by_name]
        logits = model.run_with_hooks(tokens, fwd_hooks=hooks)
        out.append(answer_probability(logits, answers).mean())
    return float(torch.stack(out).mean())


@torch.no_grad()
def trace_states(model, tokens: torch.Tensor, answers: torch.Tensor, subject_positions: list[int],
                 kind: str = "resid", window: int = 1, noise: float = 3.0, n_noise: int = 10,
                 seed: int = 0) -> TraceResult:
    """Restore every (layer, position) state of one kind in turn.

    Args:
        model: A :class:`~mi_tutor.transformer.HookedTransformer` with MLPs.
        tokens: Prompts ``[batch, pos]`` ending where the answer is predicted.
        answers: ``[batch]`` token id of each prompt's answer.
        subject_positions: The subject's positions (the same in every prompt).
        kind: ``"resid"`` (``hook_resid_post``), ``"mlp"`` (``hook_mlp_out``) or ``"attn"`` (``hook_attn_out``).
        window: Restore this many consecutive layers around each layer together (ROME uses 10 in GPT-2 XL).
        noise: Noise standard deviation in units of :func:`embedding_std`.
        n_noise: Noise samples averaged (the same samples for every state).
        seed: Seed of the noise.

    Returns:
        A :class:`TraceResult` with ``restored [n_layers, pos]``.
    """
    check_choice("kind", kind, list(KINDS))
    check_tensor("tokens", tokens, ("batch", "pos"))
    check_tensor("answers", answers, (tokens.shape[0],))
    subject_positions = check_position_list("subject_positions", subject_positions, tokens.shape[1])
    if not isinstance(window, int) or not 1 <= window <= model.cfg.n_layers:
        raise ValueError(f"`window` is {window!r}: use an int in 1 .. {model.cfg.n_layers} (layers restored together)")
    tokens = tokens.to(model.W_E.device)
    clean = float(answer_probability(model(tokens), answers).mean())
    corrupted = corrupted_probability(model, tokens, answers, subject_positions, noise, n_noise, seed)
    n_layers, n_pos = model.cfg.n_layers, tokens.shape[1]
    restored = torch.zeros(n_layers, n_pos)
    for layer in range(n_layers):
        lo = max(0, min(layer - window // 2, n_layers - window))
        layers = range(lo, lo + window)
        for pos in range(n_pos):
            restore = [(KINDS[kind].format(l), pos) for l in layers]
            restored[layer, pos] = restored_probability(model, tokens, answers, subject_positions, restore, noise,
                                                        n_noise, seed)
    return TraceResult(restored=restored, clean=clean, corrupted=corrupted, kind=kind, window=window)
