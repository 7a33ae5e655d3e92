"""A lesson's results at a glance: numbers recorded while it runs, gathered into a table.

A lesson's last code cell calls :func:`record` for each number the lesson proved. Each call
shows one line in the notebook and leaves the number in the cell's output under the MIME type
:data:`MIME`, so that whoever holds the executed notebook can read it back with
:func:`recorded`: the course site ends every lesson page with the table :func:`results_table`
builds from them. The numbers in the table are the reference solution's run, never typed in.

Examples:
    >>> import nbformat
    >>> out = nbformat.v4.new_output("display_data", data=result_bundle("curve detectors", 31, unit="of 48"))
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("record(...)", outputs=[out])])
    >>> recorded(nb)
    [{'name': 'curve detectors', 'value': 31, 'unit': 'of 48', 'paper': '', 'text': '31 of 48'}]
"""

from __future__ import annotations

import math
from numbers import Number

__all__ = ["MIME", "record", "result_bundle", "recorded", "results_table"]

#: The MIME type of a recorded result in a cell's outputs.
MIME = "application/vnd.mi-tutor.result+json"


def _format(value, digits: int) -> str:
    if isinstance(value, bool) or not isinstance(value, Number):
        return str(value)
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 10:
        return f"{int(value):,}"
    value = float(value)
    if value != 0 and abs(value) < 10 ** -digits:
        return f"{value:.{digits}g}"
    if math.isnan(value):
        return "nan"
    return f"{value:.{digits}f}"


def result_bundle(name: str, value, unit: str = "", paper: str = "", digits: int = 3) -> dict:
    """The display bundle :func:`record` shows: a text line and the result as JSON."""
    if hasattr(value, "item") and callable(value.item):  # a 0-d tensor or NumPy scalar
        value = value.item()
    if not isinstance(value, (int, float, str, bool)):
        raise TypeError(f"record {name!r}: a number or a short text, not {type(value).__name__}")
    text = _format(value, digits) + ((unit if unit[:1] in "%°×" else f" {unit}") if unit else "")
    line = f"result: {name} = {text}" + (f" (paper: {paper})" if paper else "")
    return {"text/plain": line, MIME: {"name": name, "value": value, "unit": unit, "paper": paper, "text": text}}


def record(name: str, value, unit: str = "", paper: str = "", digits: int = 3) -> None:
    """Record one of the lesson's results (shown as a line; collected by the site).

    Args:
        name: What the number is, in words ("curve detectors in layer3").
        value: The number (a float, int, 0-d tensor) or a short text.
        unit: Written after the value ("nats", "of 48 units").
        paper: The published value, with its source, where the lesson reproduces a paper.
        digits: Decimals shown for a float.

    Raises:
        TypeError: for a value that is neither a number nor a text (a whole tensor, a list).
    """
    from IPython.display import display

    display(result_bundle(name, value, unit, paper, digits), raw=True)


def recorded(nb) -> list[dict]:
    """Every result recorded in an executed notebook, in order."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {}) if out.get("output_type") in ("display_data", "execute_result") else {}
            if MIME in data:
                found.append(dict(data[MIME]))
    return found


def results_table(results: list[dict]) -> str:
    """A markdown table of recorded results (a paper column only when one of them has a paper value).

    Examples:
        >>> print(results_table([{"name": "loss on the repeat", "text": "0.87 nats", "paper": ""}]))
        | Result | This run |
        |---|---|
        | loss on the repeat | 0.87 nats |
    """
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    papers = any(r.get("paper") for r in results)
    head = "| Result | This run | Paper |\n|---|---|---|" if papers else "| Result | This run |\n|---|---|"
    rows = [f"| {cell(r['name'])} | {cell(r['text'])} |" + (f" {cell(r.get('paper') or '')} |" if papers else "")
            for r in results]
    return "\n".join([head] + rows)
