"""The instructor's class report: one HTML page and the same data as CSV.

Built after grading from the gradebook, the autograded notebooks and the run's
results (``mi-tutor autograde`` writes ``DIR/class_report.html`` and
``DIR/class_report.csv``):

* the score distribution of each exercise (a plot per assignment, and the counts);
* the most common failure messages of each test cell, with how many students got each;
* the flagged submissions with their reasons (tamper evidence, what the policy did,
  what the static scan saw);
* the submissions that failed to run, with why.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

__all__ = ["class_report", "write_class_report", "exercise_of"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SUFFIX = re.compile(r"_(visible|hidden|test|tests)(_?\d+)?$")


def exercise_of(grade_id: str) -> str:
    """The exercise a graded cell belongs to: its id without ``_visible``/``_hidden``.

    Examples:
        >>> exercise_of("ex1_1_visible"), exercise_of("ex1_1_hidden"), exercise_of("written1_1")
        ('ex1_1', 'ex1_1', 'written1_1')
    """
    return _SUFFIX.sub("", grade_id)


def _message(out: dict) -> str:
    text = _ANSI.sub("", str(out.get("evalue", ""))).strip()
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return f"{out.get('ename', 'Error')}: {first}"[:300]


def class_report(root: str | Path, results: list) -> dict:
    """The report's data (JSON-ready): ``scores``, ``failures``, ``flagged``, ``failed``.

    Args:
        root: The nbgrader course.
        results: The :class:`~.coordinator.SubmissionResult` of the run (all submissions).
    """
    root = Path(root).resolve()
    from ..nbgrader_course import load_course

    db_url = load_course(root).coursedir.db_url
    scores: dict = defaultdict(lambda: defaultdict(list))  # assignment -> exercise -> [(student, score, max)]
    failures: dict = defaultdict(lambda: defaultdict(Counter))  # assignment -> cell -> message -> students
    with Gradebook(db_url) as gb:
        for r in results:
            if not r.graded:
                continue
            try:
                sub = gb.find_submission(r.assignment, r.student)
            except MissingEntry:
                continue
            per: dict = defaultdict(lambda: [0.0, 0.0])
            for nb in sub.notebooks:
                for g in nb.grades:
                    ex = exercise_of(g.name)
                    per[ex][0] += float(g.score or 0.0)
                    per[ex][1] += float(g.max_score or 0.0)
            for ex, (got, most) in per.items():
                scores[r.assignment][ex].append((r.student, got, most))
            path = root / "autograded" / r.student / r.assignment / f"{r.assignment}.ipynb"
            try:
                nb_json = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            for cell in nb_json.get("cells", []):
                meta = (cell.get("metadata") or {}).get("nbgrader") or {}
                if not meta.get("grade") or cell.get("cell_type") != "code":
                    continue
                errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                if errors:
                    failures[r.assignment][meta.get("grade_id")][_message(errors[-1])] += 1
    flagged = [{"student": r.student, "assignment": r.assignment, "score": r.score, "max_score": r.max_score,
                "evidence": list(r.evidence), "policy": r.policy, "scan": list(r.flags)}
               for r in results if r.graded and (r.flags or r.evidence)]
    failed = [{"student": r.student, "assignment": r.assignment, "problems": list(r.problems)}
              for r in results if not r.graded]
    return {"scores": {a: {ex: rows for ex, rows in exs.items()} for a, exs in scores.items()},
            "failures": {a: {cell: counter.most_common() for cell, counter in cells.items()}
                         for a, cells in failures.items()},
            "flagged": sorted(flagged, key=lambda f: (f["assignment"], f["student"])),
            "failed": sorted(failed, key=lambda f: (f["assignment"], f["student"]))}


def _plot(assignment: str, exercises: dict) -> str:
    """A PNG (base64) of the score distribution of each exercise: one histogram of score fractions each."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    names = sorted(exercises)
    fig, axes = plt.subplots(1, len(names), figsize=(max(4.0, 2.2 * len(names)), 2.4), squeeze=False, sharey=True)
    for ax, ex in zip(axes[0], names):
        fractions = [got / most if most else 0.0 for _, got, most in exercises[ex]]
        ax.hist(fractions, bins=[i / 10 for i in range(11)], color="#4c72b0", edgecolor="white")
        most = max((m for _, _, m in exercises[ex]), default=0)
        ax.set_title(f"{ex} ({most:g} pt)", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of points", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("students", fontsize=8)
    fig.suptitle(f"{assignment}: score distribution per exercise", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _rows(data: dict) -> list[list]:
    rows = [["section", "assignment", "item", "value", "count", "detail"]]
    for a, exs in sorted(data["scores"].items()):
        for ex, entries in sorted(exs.items()):
            for student, got, most in sorted(entries):
                rows.append(["score", a, ex, f"{got:g}/{most:g}", 1, student])
    for a, cells in sorted(data["failures"].items()):
        for cell, msgs in sorted(cells.items()):
            for msg, n in msgs:
                rows.append(["failure", a, cell, msg, n, ""])
    for f in data["flagged"]:
        rows.append(["flagged", f["assignment"], f["student"], f"{f['score']:g}/{f['max_score']:g}", 1,
                     "; ".join([f"tampering: {e}" for e in f["evidence"]] + ([f["policy"]] if f["policy"] else [])
                               + [f"scan (review only): {s}" for s in f["scan"]])])
    for f in data["failed"]:
        rows.append(["failed", f["assignment"], f["student"], "", 1, "; ".join(f["problems"])])
    return rows


def write_class_report(root: str | Path, results: list, html_path: str | Path | None = None,
                       csv_path: str | Path | None = None) -> tuple[Path, Path]:
    """Write the class report (HTML page and CSV); return both paths.

    Defaults: ``DIR/class_report.html`` and ``DIR/class_report.csv``.
    """
    root = Path(root).resolve()
    html_path = Path(html_path or root / "class_report.html")
    csv_path = Path(csv_path or root / "class_report.csv")
    data = class_report(root, results)
    rows = _rows(data)
    with csv_path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    e = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Class report</title><style>"
             "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;"
             "text-align:left;vertical-align:top;font-size:14px}th{background:#f3f3f3}</style></head><body>",
             "<h1>Class report</h1>",
             f"<p>{len(results)} submissions: {sum(r.graded for r in results)} graded, "
             f"{len(data['flagged'])} flagged for review, {len(data['failed'])} failed to run. "
             f"The same data: <code>{e(csv_path.name)}</code>.</p>"]
    for a, exs in sorted(data["scores"].items()):
        parts.append(f"<h2>{e(a)}: score distribution per exercise</h2>")
        parts.append(f"<img alt='score distribution of {e(a)}' src='data:image/png;base64,{_plot(a, exs)}'>")
        parts.append("<table><tr><th>exercise</th><th>students</th><th>mean</th><th>full marks</th><th>zero</th></tr>")
        for ex, entries in sorted(exs.items()):
            got = [g for _, g, _ in entries]
            most = max((m for _, _, m in entries), default=0)
            parts.append(f"<tr><td>{e(ex)}</td><td>{len(entries)}</td><td>{sum(got) / len(got):.2f}/{most:g}</td>"
                         f"<td>{sum(1 for _, g, m in entries if m and g >= m)}</td>"
                         f"<td>{sum(1 for g in got if g == 0)}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Most common failure messages per test cell</h2>")
    if not any(data["failures"].values()):
        parts.append("<p>No test cell failed.</p>")
    for a, cells in sorted(data["failures"].items()):
        parts.append(f"<h3>{e(a)}</h3><table><tr><th>test cell</th><th>message</th><th>students</th></tr>")
        for cell, msgs in sorted(cells.items()):
            for msg, n in msgs[:5]:
                parts.append(f"<tr><td>{e(cell)}</td><td>{e(msg)}</td><td>{n}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Flagged submissions (review them)</h2>")
    if data["flagged"]:
        parts.append("<table><tr><th>student</th><th>assignment</th><th>score</th><th>reasons</th></tr>")
        for f in data["flagged"]:
            reasons = [f"tampering found while grading: {x}" for x in f["evidence"]]
            reasons += [f["policy"]] if f["policy"] else []
            reasons += [f"static scan (review only): {x}" for x in f["scan"]]
            parts.append(f"<tr><td>{e(f['student'])}</td><td>{e(f['assignment'])}</td>"
                         f"<td>{f['score']:g}/{f['max_score']:g}</td><td>{'<br>'.join(e(x) for x in reasons)}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")
    parts.append("<h2>Submissions that failed to run</h2>")
    if data["failed"]:
        parts.append("<table><tr><th>student</th><th>assignment</th><th>why</th></tr>")
        for f in data["failed"]:
            parts.append(f"<tr><td>{e(f['student'])}</td><td>{e(f['assignment'])}</td>"
                         f"<td>{'<br>'.join(e(p) for p in f['problems'])}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")
    parts.append("</body></html>")
    html_path.write_text("\n".join(parts))
    return html_path, csv_path
