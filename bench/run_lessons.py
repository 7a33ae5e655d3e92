"""Benchmark: execution time and peak memory of every lesson (solutions filled in).

Each lesson runs in a fresh kernel, in its own child process so its peak
memory can be read from the operating system. The kernel runs one torch thread
(``--threads``), the condition of the course's per-lesson budget: on a machine of
few cores, tiny models run slower at more threads, and a student's laptop runs one
lesson at a time. Results go to ``bench/results/lessons.json`` with the machine
they were measured on.

    python bench/run_lessons.py            # all lessons, one thread
    python bench/run_lessons.py 01 08      # some lessons
    python bench/run_lessons.py --threads 0  # torch's own default thread count
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
BUDGET_S, TARGET_S = 120.0, 90.0  # COURSE.md's budget and target for one lesson
GOAL_S = 45.0  # the test suite's goal (issue 26): each lesson at most 45 s at one thread on a quiet machine


def run_one(slug: str, threads: int | None) -> dict:
    """Executed in a child process: run one lesson, report seconds and peak RSS of its kernel."""
    from mi_tutor.course.execute import execute_lesson
    from mi_tutor.course.lessons import find_lessons

    [lesson] = find_lessons(ROOT / "solutions", [slug])
    result = execute_lesson(lesson.path, cache_dir=None, cwd=ROOT, threads=threads)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the kernel, once it has exited
    return {"lesson": lesson.slug, "seconds": round(result.seconds, 1), "peak_memory_mb": round(peak_kb / 1024, 1)}


def cpu_model() -> str:
    """The CPU's model name and clock (``/proc/cpuinfo``): machines of the same name can differ twofold."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "")
    mhz = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("cpu MHz")), "")
    return f"{name} at {float(mhz):.0f} MHz" if mhz else name


def machine(threads: int | None = None) -> dict:
    """This machine, and the torch threads of the lessons' kernels when given (0: torch's default)."""
    import torch

    info = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": "cuda: " + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        # other work on the machine inflates the timings: the 1-minute load average tells
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    if threads is not None:
        info["torch_threads"] = threads or f"torch's default ({torch.get_num_threads()})"
    return info


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("lessons", nargs="*")
    p.add_argument("--threads", type=int, default=1, help="torch threads of each lesson's kernel (0: torch's default)")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--output", type=Path, default=RESULTS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.threads or None)))
        return 0

    from mi_tutor.course.lessons import find_lessons

    rows = []
    for lesson in find_lessons(ROOT / "solutions", args.lessons or None):
        proc = subprocess.run([sys.executable, __file__, "--one", lesson.slug, "--threads", str(args.threads)],
                              capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            rows.append({"lesson": lesson.slug, "error": proc.stderr.strip().splitlines()[-1:]})
        else:
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            row["within_budget"] = row["seconds"] <= BUDGET_S
            row["within_target"] = row["seconds"] <= TARGET_S
            row["within_goal"] = row["seconds"] <= GOAL_S
            rows.append(row)
        print(rows[-1], flush=True)
    record = {"machine": machine(args.threads), "budget_s": BUDGET_S, "target_s": TARGET_S, "goal_s": GOAL_S,
              "lessons": rows}
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
