"""Benchmark: execution time and peak memory of every lesson (solutions filled in).

Each lesson runs in a fresh kernel, in its own child process so its peak
memory can be read from the operating system. Results go to
``bench/results/lessons.json`` with the machine they were measured on.

    python bench/run_lessons.py            # all lessons
    python bench/run_lessons.py 01 08      # some lessons
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "lessons.json"
BUDGET_S, TARGET_S = 120.0, 90.0


def run_one(slug: str) -> dict:
    """Executed in a child process: run one lesson, report seconds and peak RSS of its kernel."""
    from mi_tutor.course.execute import execute_lesson
    from mi_tutor.course.lessons import find_lessons

    [lesson] = find_lessons(ROOT / "solutions", [slug])
    result = execute_lesson(lesson.path, cache_dir=None, cwd=ROOT)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the kernel, once it has exited
    return {"lesson": lesson.slug, "seconds": round(result.seconds, 1), "peak_memory_mb": round(peak_kb / 1024, 1)}


def machine() -> dict:
    import torch

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": "cuda: " + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        # other work on the machine inflates the timings: the 1-minute load average tells
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("lessons", nargs="*")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--output", type=Path, default=RESULTS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return 0

    from mi_tutor.course.lessons import find_lessons

    rows = []
    for lesson in find_lessons(ROOT / "solutions", args.lessons or None):
        proc = subprocess.run([sys.executable, __file__, "--one", lesson.slug], capture_output=True, text=True,
                              cwd=ROOT)
        if proc.returncode != 0:
            rows.append({"lesson": lesson.slug, "error": proc.stderr.strip().splitlines()[-1:]})
        else:
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            row["within_budget"] = row["seconds"] <= BUDGET_S
            row["within_target"] = row["seconds"] <= TARGET_S
            rows.append(row)
        print(rows[-1], flush=True)
    record = {"machine": machine(), "budget_s": BUDGET_S, "target_s": TARGET_S, "lessons": rows}
    previous = json.loads(args.output.read_text()) if args.output.exists() else {}
    runs = previous.get("runs", [])[-9:] + [record]  # keep the last ten runs
    # "latest" merges by lesson: a run of some lessons replaces their rows and keeps the others',
    # each row saying when (and under which load) it was measured.
    old = previous.get("latest", {})
    stamp = lambda m: {"date": m.get("date"), "load_average_1min": m.get("load_average_1min")}  # noqa: E731
    merged = {r["lesson"]: {**stamp(old.get("machine", {})), **r} for r in old.get("lessons", [])}
    merged.update({r["lesson"]: {**stamp(record["machine"]), **r} for r in rows})
    latest = {**record, "lessons": [merged[k] for k in sorted(merged)]}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"latest": latest, "runs": runs}, indent=2) + "\n")
    print(f"wrote {args.output}")
    if args.output == RESULTS:  # the grader's time limits, shipped inside the package
        from mi_tutor.course.grading.limits import LESSON_SECONDS

        LESSON_SECONDS.write_text(json.dumps({r["lesson"]: r["seconds"] for r in latest["lessons"] if "seconds" in r},
                                             indent=1) + "\n")
        print(f"wrote {LESSON_SECONDS}")
    return 0 if all(r.get("within_budget") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
