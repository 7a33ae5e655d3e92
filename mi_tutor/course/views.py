"""Interactive views for the course site: attention patterns and activations you can hover.

The lesson notebooks draw static matplotlib figures (the tests check their
data); the site adds, beside them, plotly views of the same kind of data for
every transformer a lesson loads from the zoo. Hovering shows the query and
key tokens and the weight, or the token, the head and the value. The views are
HTML fragments that use the site's own copy of plotly.js, so they work offline.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import plotly.graph_objects as go
import torch

from ..validation import check_tensor

__all__ = ["attention_view", "activation_view", "transformer_views", "views_html", "lesson_view_cells",
           "zoo_transformers"]

PLOTLY_SRC = "../../vendor/plotly/plotly.min.js"  # relative to a lesson page (lessons/NN_slug/)


def _labels(tokens: list[str]) -> list[str]:
    return [f"{i}: {t}" for i, t in enumerate(tokens)]


def attention_view(patterns: torch.Tensor, tokens: list[str], title: str = "") -> go.Figure:
    """Attention patterns of one sequence, one head at a time, chosen from a menu.

    Args:
        patterns: ``[layer, head, query_pos, key_pos]``.
        tokens: One label per position.
        title: Figure title.

    Returns:
        A plotly figure: one heatmap per head (only the first visible), hover shows
        query token, key token and weight.

    Examples:
        >>> fig = attention_view(torch.softmax(torch.randn(1, 2, 3, 3), -1), ["a", "b", "c"])
        >>> len(fig.data), fig.data[0].z.shape
        (2, (3, 3))
    """
    check_tensor("patterns", patterns, ("layer", "head", "query_pos", "key_pos"), floating=True)
    n_layers, n_heads, n_pos, _ = patterns.shape
    if len(tokens) != n_pos:
        raise ValueError(f"tokens has {len(tokens)} labels, patterns has {n_pos} positions")
    labels = _labels(tokens)
    fig = go.Figure()
    names = []
    for layer in range(n_layers):
        for head in range(n_heads):
            names.append(f"L{layer}H{head}")
            fig.add_trace(go.Heatmap(
                z=patterns[layer, head].detach().cpu().numpy(), x=labels, y=labels, colorscale="Blues",
                zmin=0, zmax=1, visible=not names[:-1], name=names[-1],
                hovertemplate="query %{y}<br>key %{x}<br>weight %{z:.3f}<extra>" + names[-1] + "</extra>"))
    buttons = [dict(label=n, method="update",
                    args=[{"visible": [j == i for j in range(len(names))]}, {"title.text": f"{title} {n}"}])
               for i, n in enumerate(names)]
    fig.update_layout(title=f"{title} {names[0]}", updatemenus=[dict(buttons=buttons, x=1.0, y=1.15)],
                      xaxis=dict(title="key", showticklabels=False), height=480,
                      yaxis=dict(title="query", autorange="reversed", showticklabels=False))
    return fig


def activation_view(values: torch.Tensor, tokens: list[str], components: list[str], title: str = "",
                    value_name: str = "value") -> go.Figure:
    """A heatmap of one number per (component, position), e.g. each head's output norm per token.

    Args:
        values: ``[component, pos]``.
        tokens: One label per position.
        components: One name per row.
        title: Figure title.
        value_name: What the number is (shown on hover).

    Examples:
        >>> activation_view(torch.ones(2, 3), ["a", "b", "c"], ["L0H0", "L0H1"]).data[0].z.shape
        (2, 3)
    """
    check_tensor("values", values, ("component", "pos"), floating=True)
    if len(tokens) != values.shape[1] or len(components) != values.shape[0]:
        raise ValueError(f"values is {tuple(values.shape)}, but got {len(components)} components "
                         f"and {len(tokens)} tokens")
    fig = go.Figure(go.Heatmap(
        z=values.detach().cpu().numpy(), x=_labels(tokens), y=components, colorscale="Viridis",
        hovertemplate="token %{x}<br>%{y}<br>" + value_name + " %{z:.3f}<extra></extra>"))
    fig.update_layout(title=title, height=120 + 28 * len(components),
                      xaxis=dict(title="position: token", showticklabels=False))
    return fig


def transformer_views(model, name: str, seed: int = 0) -> list[go.Figure]:
    """Attention patterns and per-head output norms of ``model`` on one repeated random sequence.

    The sequence is ``[BOS] + r + r`` (the induction setting) when the context allows it,
    else random tokens filling the context.
    """
    from ..transformer.data import random_tokens, repeated_random_tokens

    cfg = model.cfg
    device = next(model.parameters()).device
    if cfg.n_ctx >= 9:
        seq_len = min(20, (cfg.n_ctx - 1) // 2)
        tokens = repeated_random_tokens(batch=1, seq_len=seq_len, d_vocab=cfg.d_vocab, seed=seed, device=device)
    elif cfg.n_ctx == 3:  # "a b =" (the grokking models: the last token id is "=")
        a, b = torch.randint(0, cfg.d_vocab - 1, (2,), generator=torch.Generator().manual_seed(seed)).tolist()
        tokens = torch.tensor([[a, b, cfg.d_vocab - 1]], device=device)
    else:
        tokens = random_tokens(batch=1, seq_len=cfg.n_ctx, d_vocab=cfg.d_vocab, seed=seed, bos=False,
                               device=device)
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens)
    labels = [str(int(t)) for t in tokens[0]]
    patterns = torch.stack([cache["pattern", layer][0] for layer in range(cfg.n_layers)])
    norms = torch.cat([cache["result", layer][0].norm(dim=-1).T for layer in range(cfg.n_layers)])
    heads = [f"L{l}H{h}" for l in range(cfg.n_layers) for h in range(cfg.n_heads)]
    return [attention_view(patterns, labels, title=f"{name}: attention pattern of"),
            activation_view(norms, labels, heads, title=f"{name}: size of each head's output per token",
                            value_name="|head output|")]


def views_html(figures: list[go.Figure], plotly_src: str = PLOTLY_SRC, prefix: str = "mi-view") -> str:
    """HTML for the site: one ``<script>`` for the site's plotly.js, then each figure's ``<div>``."""
    parts = [f'<script src="{html.escape(plotly_src)}"></script>']
    for i, fig in enumerate(figures):
        parts.append('<div class="mi-view">' + fig.to_html(full_html=False, include_plotlyjs=False,
                                                          div_id=f"{prefix}-{i}",
                                                          config={"displaylogo": False}) + "</div>")
    return "\n".join(parts)


#: Zoo families whose models are :class:`~mi_tutor.transformer.HookedTransformer` s.
TRANSFORMER_FAMILIES = ("transformer", "grokking")


def zoo_transformers(source: str) -> list[str]:
    """Names of the zoo's transformers that a lesson's source names (as string literals), in order."""
    from .. import zoo

    found = []
    for family in TRANSFORMER_FAMILIES:
        for name in zoo.available(family):
            m = re.search(rf"[\"']{re.escape(name)}[\"']", source)
            if m:
                found.append((m.start(), name))
    return [name for _, name in sorted(found)]


def lesson_view_cells(lesson_path: str | Path, cells: list) -> list:
    """``cells`` with interactive views inserted after the lesson's first attention figure.

    Only lessons that load a zoo transformer get views (one pair per model); the views
    go after the first cell that plots attention patterns, else after the cell that
    loads the model.
    """
    from .. import zoo

    source = Path(lesson_path).read_text()
    names = zoo_transformers(source)
    if not names:
        return cells
    figures = []
    for name in names:
        figures += transformer_views(zoo.load(name, device="cpu"), name)
    note = nbformat.v4.new_markdown_cell(
        "**Interactive view.** The same kind of data as the figures above, for "
        + ", ".join(f"`{n}`" for n in names) + " on one example sequence: pick a head from the menu, "
        "hover to read the query and key tokens (position: token id) and the weight; below, how much each "
        "head writes at each token.")
    note.id = "mi-views-note"
    raw = nbformat.v4.new_raw_cell(views_html(figures), metadata={"raw_mimetype": "text/html"})
    raw.id = "mi-views"
    anchor = next((i for i, c in enumerate(cells) if c.cell_type == "code"
                   and re.search(r"plot_attention|attention_pattern", c.source)
                   and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))), None)
    if anchor is None:
        anchor = next((i for i, c in enumerate(cells) if c.cell_type == "code" and "zoo.load(" in c.source),
                      len(cells) - 1)
    return cells[:anchor + 1] + [note, raw] + cells[anchor + 1:]
