"""An activation-atlas style map: many activations laid out in 2-D and averaged on a grid.

Activation vectors (one per image position, or per image) are projected to two
dimensions (here with PCA, cheap and deterministic; the original atlas used
UMAP), the plane is cut into ``n_cells x n_cells`` cells and each cell gets the
mean activation vector (and a representative input) of the points it holds.

Examples:
    >>> cells, counts = grid_average(torch.rand(100, 2), torch.rand(100, 4), n_cells=3)
    >>> cells.shape, int(counts.sum())
    (torch.Size([3, 3, 4]), 100)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..validation import check_tensor

__all__ = ["pca_layout", "grid_cells", "grid_average", "cell_purity", "Atlas", "activation_atlas"]


def pca_layout(vectors: torch.Tensor) -> torch.Tensor:
    """Project ``[n, d]`` vectors on their two leading principal components -> ``[n, 2]``.

    The sign of each component is fixed so that its largest loading is positive.
    """
    check_tensor("vectors", vectors, ("n", "d"), floating=True)
    centred = vectors - vectors.mean(0)
    _, _, v = torch.linalg.svd(centred.double(), full_matrices=False)
    comps = v[:2]
    signs = torch.sign(comps.gather(1, comps.abs().argmax(1, keepdim=True)))
    return (centred.double() @ (comps * signs).T).to(vectors.dtype)


def grid_cells(coords: torch.Tensor, n_cells: int) -> torch.Tensor:
    """Cell index ``(row, col)`` of each ``[n, 2]`` point in an ``n_cells`` grid over its bounding box.

    Column follows ``coords[:, 0]``, row follows ``coords[:, 1]``; the
    maximum falls in the last cell. Returns ``[n, 2]`` longs.
    """
    check_tensor("coords", coords, ("n", 2), floating=True)
    lo, hi = coords.min(0).values, coords.max(0).values
    scaled = (coords - lo) / (hi - lo).clamp_min(1e-12) * n_cells
    idx = scaled.floor().long().clamp(0, n_cells - 1)
    return idx.flip(-1)


def grid_average(coords: torch.Tensor, values: torch.Tensor, n_cells: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Average ``values`` of the points falling in each cell of a grid.

    Args:
        coords: ``[n, 2]`` 2-D positions.
        values: ``[n, d]`` vectors to average.
        n_cells: Cells per side.

    Returns:
        ``(cells [n_cells, n_cells, d], counts [n_cells, n_cells])``; empty cells are 0.
    """
    dims = check_tensor("coords", coords, ("n", 2), floating=True)
    check_tensor("values", values, ("n", "d"), dims=dims)
    idx = grid_cells(coords, n_cells)
    flat = idx[:, 0] * n_cells + idx[:, 1]
    sums = torch.zeros(n_cells * n_cells, values.shape[1], dtype=values.dtype, device=values.device)
    sums.index_add_(0, flat.to(values.device), values)
    counts = torch.bincount(flat, minlength=n_cells * n_cells).to(values.device)
    cells = sums / counts.clamp_min(1)[:, None].to(values.dtype)
    return cells.reshape(n_cells, n_cells, -1), counts.reshape(n_cells, n_cells)


def cell_purity(fractions: torch.Tensor, counts: torch.Tensor) -> float:
    """Share of all points that carry their cell's most common label.

    Args:
        fractions: ``[n_cells, n_cells, classes]`` label fractions per cell (the
            :func:`grid_average` of one-hot labels).
        counts: ``[n_cells, n_cells]`` points per cell.

    Returns:
        ``sum(counts * max fraction) / sum(counts)``: 1 when every cell holds one label.

    Examples:
        >>> cells, counts = grid_average(torch.tensor([[0., 0.], [1., 1.]]), torch.eye(2), 2)
        >>> cell_purity(cells, counts)
        1.0
    """
    check_tensor("fractions", fractions, ("rows", "cols", "classes"), floating=True)
    check_tensor("counts", counts, (fractions.shape[0], fractions.shape[1]))
    if counts.sum() <= 0:
        raise ValueError("`counts` is all zero: the grid holds no points")
    return ((counts.to(fractions) * fractions.amax(-1)).sum() / counts.sum()).item()


@dataclass
class Atlas:
    """An activation atlas.

    Attributes:
        coords: ``[n, 2]`` layout of the activation vectors.
        cells: ``[n_cells, n_cells, d]`` mean activation per cell.
        counts: ``[n_cells, n_cells]`` points per cell.
        example: ``[n_cells, n_cells]`` index of the point nearest each cell's
            mean (``-1`` for empty cells).
        labels: ``[n]`` optional labels of the points (for colouring), or ``None``.
    """

    coords: torch.Tensor
    cells: torch.Tensor
    counts: torch.Tensor
    example: torch.Tensor
    labels: torch.Tensor | None = None


def activation_atlas(vectors: torch.Tensor, n_cells: int = 8, labels: torch.Tensor | None = None, *,
                     average_fn: Callable[[torch.Tensor, torch.Tensor, int], tuple[torch.Tensor, torch.Tensor]]
                     = grid_average) -> Atlas:
    """Lay ``[n, d]`` activation vectors out with PCA and average them on a grid.

    Args:
        vectors: ``[n, d]`` activation vectors.
        n_cells: Cells per side of the grid.
        labels: ``[n]`` optional labels of the points (kept for colouring).
        average_fn: ``average_fn(coords, values, n_cells) -> (cells, counts)``
            (default :func:`grid_average`); lesson 2 passes the student's own,
            so the atlas's cells, counts and example images are the student's.

    Returns:
        An :class:`Atlas`.

    Examples:
        >>> activation_atlas(torch.randn(50, 6), n_cells=4).cells.shape
        torch.Size([4, 4, 6])
    """
    coords = pca_layout(vectors)
    cells, counts = average_fn(coords, vectors, n_cells)
    idx = grid_cells(coords, n_cells)
    flat = idx[:, 0] * n_cells + idx[:, 1]
    example = torch.full((n_cells * n_cells,), -1, dtype=torch.long)
    dist = (vectors - cells.reshape(-1, vectors.shape[1])[flat]).norm(dim=-1)
    for cell in flat.unique().tolist():
        members = torch.nonzero(flat == cell).flatten()
        example[cell] = members[dist[members].argmin()]
    return Atlas(coords, cells, counts, example.reshape(n_cells, n_cells), labels)
