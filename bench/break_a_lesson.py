"""Proof that the suite still catches a broken lesson now that each lesson runs once per session.

Clones the committed HEAD into a temporary folder, breaks one cell of one lesson there (a locked
code cell that is neither a solution nor a test gets ``raise RuntimeError(...)`` appended, so the
lesson's own code, not a check, is what breaks), and runs the tests that execute that lesson
(``tests/test_lessons_run.py`` and ``tests/test_cohort.py`` for it) in the clone, with the clone
first on ``sys.path`` (and its kernels'). Records which tests failed and the failure lines in
``bench/results/break_a_lesson.json``. Exits 0 when every one of those tests failed (the suite
caught the break), 1 otherwise.

    python bench/break_a_lesson.py                 # lesson 05, its 4th own code cell (a figure)
    python bench/break_a_lesson.py --lesson 08 --cell 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "break_a_lesson.json"


def plain_code_cells(text: str) -> list[int]:
    """Line numbers of the ``# %%`` markers of the lesson's own code cells.

    Those are the locked cells that are neither the setup, a solution nor a graded test: the
    demonstrations and figures between the exercises.
    """
    lines = text.splitlines()
    markers = [i for i, line in enumerate(lines) if line.startswith("# %%")] + [len(lines)]
    plain = []
    for start, end in zip(markers, markers[1:]):
        header, body = lines[start], "\n".join(lines[start + 1:end])
        own = '"grade": false' in header and '"solution": false' in header and '"setup"' not in header
        if "[markdown]" in header or not own or "BEGIN" in body:
            continue
        if body.strip():
            plain.append(start)
    return plain


def break_cell(path: Path, index: int) -> str:
    """Append a ``raise`` to the ``index``-th plain code cell of the lesson at ``path``; return the cell's first line."""
    lines = path.read_text().splitlines()
    cells = plain_code_cells("\n".join(lines))
    start = cells[index]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("# %%")), len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    lines.insert(end, 'raise RuntimeError("broken on purpose by bench/break_a_lesson.py")')
    path.write_text("\n".join(lines) + "\n")
    return lines[start + 1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lesson", default="05", help="lesson number (default 05)")
    p.add_argument("--cell", type=int, default=3, help="which of the lesson's own code cells to break, from 0 (default 3)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="mi-tutor-break-") as tmp:
        clone = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        [lesson] = sorted((clone / "solutions").glob(f"{args.lesson}_*.py"))
        first_line = break_cell(lesson, args.cell)
        env = dict(os.environ, PYTHONPATH=str(clone), NO_MKDOCS_2_WARNING="1")
        # PYTHONPATH reaches the unsandboxed kernels; the sandboxed grading kernels import the installed
        # package, so the clone is installed over it for the run and this repository put back afterwards.
        pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e"]
        subprocess.run(pip + [str(clone)], check=True, capture_output=True)
        start = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
                                   "tests/test_lessons_run.py", "tests/test_cohort.py", "-k", lesson.stem],
                                  cwd=clone, env=env, capture_output=True, text=True)
        finally:
            subprocess.run(pip + [str(ROOT)], capture_output=True)
        seconds = time.perf_counter() - start
    out = proc.stdout + proc.stderr
    failed = re.findall(r"^FAILED (\S+)", out, re.M)
    passed = re.findall(r"(\d+) passed", out)
    result = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "lesson": lesson.stem, "broken_cell": args.cell,
              "broken_cell_first_line": first_line, "failed": failed, "passed": int(passed[-1]) if passed else 0,
              "returncode": proc.returncode, "seconds": round(seconds, 1),
              "failure_lines": [line for line in out.splitlines() if line.startswith("FAILED")][:10],
              "caught": bool(failed) and not passed}
    print(json.dumps(result, indent=1))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    return 0 if result["caught"] else 1


if __name__ == "__main__":
    sys.exit(main())
