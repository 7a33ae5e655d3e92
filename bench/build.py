"""Benchmark: the README's first command on a fresh clone, serial and parallel, in one run.

Clones the repository's committed HEAD into a temporary folder, installs it as the README's
first command does (``python -m pip install -e .``, timed: the packages this environment
already holds are not downloaded again), and runs ``python -m mi_tutor build`` there twice
with an empty lesson cache each time: ``--jobs 1`` (one lesson after another, as before) and
``--jobs N`` (default: the number of cores); then once more with the cache warm. The main
job's time is the install plus the parallel build (``main_job_s``; the goal of issue 26 is
at most 300 s, and at most 20 s for the warm build). Records wall times, each lesson's
execution time from the build's own log, and the load average before and after each run
(other work on a shared machine inflates the numbers). Afterwards the editable install
points back at this repository. Results go to ``bench/results/build.json``.

    python bench/build.py                  # install, serial, parallel, warm
    python bench/build.py --jobs 2 --skip-serial
    python bench/build.py --lessons 1 5 8  # a subset of the lessons (the rest deleted from the clone)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run_lessons import cpu_model  # bench/ is on the path of a script run from it

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "build.json"
_LINE = re.compile(r"^\s+(\d\d_[a-z0-9_]+)\s+(cached|done in|FAILED after)\s*(\d+)?", re.M)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_build(clone: Path, jobs: int, cache: Path) -> dict:
    """One ``mi-tutor build`` in ``clone`` with ``cache`` as the executed-lesson cache."""
    env = dict(os.environ, MI_TUTOR_CACHE=str(cache), PYTHONPATH=str(clone))
    load_before = _load()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mi_tutor", "build", "--jobs", str(jobs)], cwd=clone, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    log = (proc.stdout + proc.stderr).replace("\r", "\n")
    lessons = {m.group(1): (0.0 if m.group(2) == "cached" else float(m.group(3) or 0)) for m in _LINE.finditer(log)}
    noise = {k: log.count(k) for k in ("without encryption", "reaches end of life")}
    return {"jobs": jobs, "wall_s": round(wall, 1), "returncode": proc.returncode, "lesson_s": lessons,
            "kernel_s_total": round(sum(lessons.values()), 1), "load_average_before": load_before,
            "load_average_after": _load(), "noise_lines": noise, "log_lines": len(log.splitlines()),
            "log_tail": log.strip().splitlines()[-6:]}


def run_install(clone: Path) -> dict:
    """The README's install step, ``python -m pip install -e .``, in ``clone``."""
    load_before = _load()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--progress-bar", "off", "-e", "."],
                          cwd=clone, capture_output=True, text=True)
    return {"wall_s": round(time.perf_counter() - start, 1), "returncode": proc.returncode,
            "load_average_before": load_before, "load_average_after": _load(),
            "log_tail": (proc.stdout + proc.stderr).strip().splitlines()[-3:]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--skip-serial", action="store_true", help="only the parallel and warm builds")
    p.add_argument("--lessons", nargs="*", help="keep only these lessons (numbers) in the clone, to fit the "
                                                  "wall clock of a loaded machine; recorded in the results")
    p.add_argument("--output", type=Path, default=RESULTS)
    args = p.parse_args()
    import torch

    work = Path(tempfile.mkdtemp(prefix="mi-tutor-bench-build-"))
    history = json.loads(args.output.read_text()).get("runs_history", []) if args.output.exists() else []
    record: dict = {}

    def save(runs: list[dict]) -> None:  # after every run: a long benchmark cut short keeps what it measured
        record.update(runs=runs)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps({"latest": record, "runs_history": history + [record]}, indent=1) + "\n")

    runs: list[dict] = []
    try:
        clone = work / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        if args.lessons:
            for path in (clone / "solutions").glob("[0-9][0-9]_*.py"):
                if path.name[:2] not in {f"{int(n):02d}" for n in args.lessons}:
                    path.unlink()
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True,
                                text=True).stdout.strip()
        record.update(machine={"date": time.strftime("%Y-%m-%d %H:%M:%S"), "cpu_count": os.cpu_count(),
                               "platform": platform.platform(), "cpu": cpu_model(),
                               "python": platform.python_version(),
                               "torch": torch.__version__, "commit": commit,
                               "lessons": sorted(p.stem for p in (clone / "solutions").glob("[0-9][0-9]_*.py"))},
                      subset=args.lessons or "all",
                      note="fresh clone of HEAD, empty executed-lesson cache for the serial and parallel runs; "
                           "the machine is shared, see the load averages")
        print("install: python -m pip install -e . (in the clone) ...", flush=True)
        runs.append({"run": "install", **run_install(clone)})
        save(runs)
        print(f"  {runs[-1]['wall_s']} s, rc {runs[-1]['returncode']}", flush=True)
        plan = ([] if args.skip_serial else [("serial", 1)]) + [("parallel", args.jobs)]
        for label, jobs in plan:
            cache = work / f"cache-{label}"
            shutil.rmtree(clone / "build", ignore_errors=True)
            print(f"{label}: mi-tutor build --jobs {jobs} (cold cache) ...", flush=True)
            runs.append({"run": label, **run_build(clone, jobs, cache)})
            save(runs)
            print(f"  {runs[-1]['wall_s']} s, rc {runs[-1]['returncode']}", flush=True)
        print("warm: mi-tutor build again with the parallel run's cache ...", flush=True)
        runs.append({"run": "warm", **run_build(clone, args.jobs, work / "cache-parallel")})
        save(runs)
        print(f"  {runs[-1]['wall_s']} s", flush=True)
        walls = {r["run"]: r["wall_s"] for r in runs}
        record.update(main_job_s=round(walls["install"] + walls["parallel"], 1), warm_build_s=walls["warm"],
                      goals={"main_job_s": 300, "warm_build_s": 20})
        save(runs)
    finally:
        # the editable install points back at this repository, whatever happened to the clone's
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e",
                        str(ROOT)], check=False)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({r["run"]: r["wall_s"] for r in runs}))
    return 0 if all(r["returncode"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
