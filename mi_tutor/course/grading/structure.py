"""Duplicated, reordered, added and deleted cells: graded as nbgrader's rules say, told in plain words.

nbgrader grades cells by their ``grade_id``, runs the cells in the order they were
submitted, puts back the graded cells a student deleted (``add_missing_cells``)
and, when a cell id appears more than once (copy and paste in JupyterLab), keeps
the *last* copy as the graded one and runs the others as ordinary cells
(``DeduplicateIds``). nbgrader 0.9.6 then crashes on its own deduplicated cells
(``add_missing_task_cells`` reads a ``grade_id`` that ``DeduplicateIds`` removed), so
:func:`normalize` applies the same rule before nbgrader sees the notebook, and
says what it found.

Examples:
    >>> cell = lambda gid, src="": {"cell_type": "code", "source": src, "metadata": {"nbgrader": {"grade_id": gid}}}
    >>> nb, notes = normalize({"cells": [cell("a", "x = 1"), cell("a", "x = 2")]}, {"cells": [cell("a")]})
    >>> [c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]]
    [None, 'a']
    >>> notes[0]
    'cell a appears 2 times (copied and pasted?): the last copy is graded, as nbgrader does; the other copy ran as an ordinary cell'
"""

from __future__ import annotations

import copy

__all__ = ["normalize"]


def _meta(cell) -> dict:
    m = (cell.get("metadata") or {}).get("nbgrader")
    return m if isinstance(m, dict) else {}


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else str(s)


def normalize(submitted: dict, release: dict) -> tuple[dict, list[str]]:
    """``submitted`` with nbgrader's duplicate rule applied, and notes in words on its structure.

    Args:
        submitted: The submitted notebook (parsed JSON; not changed).
        release: The released notebook.

    Returns:
        The notebook to grade and what differs from the release's structure.
    """
    nb = copy.deepcopy(submitted)
    cells = nb.get("cells")
    if not isinstance(cells, list):
        return nb, []
    notes: list[str] = []
    released_ids = [_meta(c).get("grade_id") for c in release.get("cells", []) if _meta(c).get("grade_id")]
    released_types = {_meta(c).get("grade_id"): c.get("cell_type") for c in release.get("cells", [])}
    broken = 0
    for cell in cells:
        md = cell.get("metadata")
        if isinstance(md, dict) and "nbgrader" in md and not (isinstance(md["nbgrader"], dict)
                                                              and isinstance(md["nbgrader"].get("grade_id"), str)):
            if md["nbgrader"]:  # an empty dict is harmless; anything else without an id breaks nbgrader
                broken += 1
            del md["nbgrader"]
    if broken:
        notes.append(f"{broken} cell(s) had broken grading metadata (no cell id): they ran as ordinary cells")
    # duplicates: the last copy keeps the id (nbgrader's DeduplicateIds), the others become ordinary cells
    last: dict[str, int] = {}
    count: dict[str, int] = {}
    for i, cell in enumerate(cells):
        gid = _meta(cell).get("grade_id")
        if gid:
            last[gid] = i
            count[gid] = count.get(gid, 0) + 1
    copies: set[str] = set()
    for i, cell in enumerate(cells):
        gid = _meta(cell).get("grade_id")
        if gid and last[gid] != i:
            del cell["metadata"]["nbgrader"]
            copies.add(_src(cell).strip())
    for gid, n in count.items():
        if n > 1:
            others = "the other copy ran" if n == 2 else f"the other {n - 1} copies ran"
            notes.append(f"cell {gid} appears {n} times (copied and pasted?): the last copy is graded, as nbgrader "
                         f"does; {others} as an ordinary cell" + ("" if n == 2 else "s"))
    kept = [_meta(c).get("grade_id") for c in cells if _meta(c).get("grade_id")]
    known = [g for g in kept if g in released_ids]
    if known != [g for g in released_ids if g in known]:
        moved = next(g for g, r in zip(known, [g for g in released_ids if g in known]) if g != r)
        notes.append(f"cells are in another order than released (first moved: {moved}): they ran in the order "
                     "submitted; each is graded by its id, as nbgrader does")
    missing = [g for g in released_ids if g not in kept]
    if missing:
        notes.append(f"deleted cell(s) {', '.join(missing)}: nbgrader puts graded cells back as released "
                     "(they score as released) and cells that used what a deleted cell defined fail")
    for cell in cells:
        gid = _meta(cell).get("grade_id")
        if gid and gid in released_types and cell.get("cell_type") != released_types[gid]:
            notes.append(f"cell {gid} was changed from {released_types[gid]} to {cell.get('cell_type')}: nbgrader "
                         "restores its type")
    released_text = {_src(c).strip() for c in release.get("cells", [])}
    added = [c for c in cells if not _meta(c).get("grade_id") and _src(c).strip() not in released_text | copies
             and c.get("cell_type") == "code" and _src(c).strip()]
    ungraded_release = [c for c in release.get("cells", []) if not _meta(c).get("grade_id")]
    if len(added) > 0 and len(cells) > len(release.get("cells", [])):
        notes.append(f"{len(added)} code cell(s) added or edited outside the answer cells: they ran as ordinary "
                     "code (they earn no points)")
    submitted_text = {_src(c).strip() for c in cells}
    gone = [c for c in ungraded_release if _src(c).strip() and _src(c).strip() not in submitted_text
            and c.get("cell_type") == "code"]
    if gone and len(cells) < len(release.get("cells", [])):
        notes.append(f"{len(gone)} code cell(s) of the release are missing or edited: later cells that need "
                     "them may fail")
    return nb, notes
