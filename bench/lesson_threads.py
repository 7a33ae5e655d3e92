"""Benchmark: each lesson's execution time with 1 and with 2 torch threads, side by side.

`setup_lesson` chooses the number of torch CPU threads a lesson's kernel uses. The course's
models are tiny, and on a shared 2-core machine two threads can be far slower than one (the
threads wait on each other whenever another process holds a core). This script runs each lesson
in a fresh kernel at 1 and at 2 threads, interleaved (1, 2, 1, 2, ...), so both settings see the
same background load, and records the pairs in ``bench/results/lesson_threads.json``.

    python bench/lesson_threads.py              # every lesson, one round
    python bench/lesson_threads.py 02 07 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_lessons import ROOT, machine  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "lesson_threads.json"
RUNNER = Path(__file__).resolve().parent / "run_lessons.py"


def timed(slug: str, threads: int) -> float | None:
    """One lesson in a fresh kernel with ``OMP_NUM_THREADS=threads`` (which `setup_lesson` reads)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    proc = subprocess.run([sys.executable, str(RUNNER), "--one", slug, "--threads", str(threads)],
                          capture_output=True, text=True,
                          cwd=ROOT, env=env)
    if proc.returncode != 0:
        print(f"{slug} at {threads} thread(s) failed: {proc.stderr.strip().splitlines()[-1:]}", flush=True)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("lessons", nargs="*")
    p.add_argument("--rounds", type=int, default=1, help="repeats of each (1 thread, 2 threads) pair")
    p.add_argument("--output", type=Path, default=RESULTS)
    args = p.parse_args()

    from mi_tutor.course.lessons import find_lessons

    rows = []
    for lesson in find_lessons(ROOT / "solutions", args.lessons or None):
        times: dict[int, list[float]] = {1: [], 2: []}
        loads = []
        for _ in range(args.rounds):
            for threads in (1, 2):
                loads.append(os.getloadavg()[0])
                seconds = timed(lesson.slug, threads)
                if seconds is not None:
                    times[threads].append(seconds)
        row = {"lesson": lesson.slug, "seconds_1_thread": times[1], "seconds_2_threads": times[2],
               "load_average_1min": round(statistics.mean(loads), 2)}
        if times[1] and times[2]:
            row["ratio_2_over_1"] = round(statistics.median(times[2]) / statistics.median(times[1]), 2)
        rows.append(row)
        print(row, flush=True)
    record = {"machine": machine(), "rounds": args.rounds, "lessons": rows}
    previous = json.loads(args.output.read_text()) if args.output.exists() else {"runs": []}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"runs": previous["runs"][-9:] + [record]}, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
