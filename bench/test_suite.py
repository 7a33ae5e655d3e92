"""Benchmark: the README's test command on a fresh clone, timed as CI runs it.

Clones the committed HEAD into a temporary folder and runs ``bash .ci/run`` there (it
installs the clone with ``pip install -e ".[test]"`` and runs ``python -m pytest``, the
README's second command), as CI does (``CI=true``). Records the wall time of the whole run
and of pytest alone (pytest's own closing line), the pass/fail/skip counts, the slowest
tests (``--durations``), the load average before and after (other work on a shared machine
inflates the numbers) and the machine. Afterwards the editable install points back at this
repository. Results go to ``bench/results/test_suite.json`` (``latest`` and a ``history``).

    python bench/test_suite.py                     # the README's command (xdist, -n auto)
    python bench/test_suite.py --pytest-args "-n 0" --label serial   # one process, for comparison
    python bench/test_suite.py --rev f1281a7 --label before          # an older commit
    python bench/test_suite.py --pytest-args=--durations=0 --save-log /tmp/suite.txt  # every test's time
    python bench/test_suite.py --log run.txt --rev a61acd7 --how "..."  # record a run made by hand
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run_lessons import cpu_model  # bench/ is on the path of a script run from it

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "test_suite.json"
_SUMMARY = re.compile(r"^=* ?(\d+ (?:passed|failed|error).*?) in ([\d.]+)s", re.M)  # with or without -q's rules
_DURATION = re.compile(r"^([\d.]+)s (call|setup|teardown)\s+(\S+)", re.M)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _counts(summary: str) -> dict[str, int]:
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected)", summary)}


def run_suite(rev: str, pytest_args: str, save_log: Path | None = None) -> dict:
    """Clone ``rev`` and run CI's script there; return what it measured."""
    with tempfile.TemporaryDirectory(prefix="mi-tutor-suite-") as tmp:
        clone = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "checkout", "-q", rev], cwd=clone, check=True)
        if pytest_args:  # the same script with other pytest options (the README's command otherwise)
            script = (clone / ".ci" / "run").read_text()
            lines = script.splitlines()
            at = next(i for i, line in enumerate(lines) if line.startswith("python -m pytest"))
            lines[at] += f" {pytest_args}"  # after .ci/run's own options, so that these win
            script = "\n".join(lines) + "\n"
            (clone / ".ci" / "run").write_text(script)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MI_TUTOR_TEST_CACHE")}
        env["CI"] = "true"
        load_before = _load()
        start = time.perf_counter()
        proc = subprocess.run(["bash", ".ci/run"], cwd=clone, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        load_after = _load()
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True,
                                text=True).stdout.strip()
    if save_log:
        save_log.write_text(proc.stdout + proc.stderr)
    result = parse_output(proc.stdout + proc.stderr)
    result.update({"commit": commit, "pytest_args": pytest_args, "returncode": proc.returncode,
                   "wall_s": round(wall, 1), "load_average_before": load_before, "load_average_after": load_after})
    return result


def parse_output(out: str) -> dict:
    """What pytest's output says: the closing line, its seconds and counts, the slowest tests."""
    summary = _SUMMARY.findall(out)
    line, pytest_s = (summary[-1][0], float(summary[-1][1])) if summary else ("", None)
    slowest = [{"seconds": float(s), "when": w, "test": t} for s, w, t in _DURATION.findall(out)][:25]
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "pytest_s": pytest_s, "summary": line,
            "counts": _counts(line), "slowest": slowest, "tail": out.strip().splitlines()[-25:]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rev", default="HEAD", help="commit to clone and test (default HEAD)")
    p.add_argument("--pytest-args", default="", help="extra options after .ci/run's pytest options (these win)")
    p.add_argument("--label", default="", help="a name for this run in the history")
    p.add_argument("--no-record", action="store_true")
    p.add_argument("--save-log", type=Path, help="also write the whole output of the run to this file")
    p.add_argument("--log", type=Path, help="record a run made by hand from its pytest output (no clone is run)")
    p.add_argument("--how", default="", help="with --log: the command, the checkout and the load of that run")
    args = p.parse_args()
    rev = subprocess.run(["git", "rev-parse", "--short", args.rev], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    if args.log:
        result = parse_output(args.log.read_text())
        result.update({"commit": rev, "pytest_args": args.pytest_args, "how": args.how,
                       "returncode": 0 if result["counts"].get("failed", 0) == 0 else 1, "wall_s": result["pytest_s"],
                       "load_average_before": None, "load_average_after": None})
    else:
        try:
            result = run_suite(rev, args.pytest_args, args.save_log)
        finally:  # .ci/run re-pointed the editable install at the clone: point it back here
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", str(ROOT)],
                           capture_output=True)
    result["label"] = args.label
    result["machine"] = {"cpu_count": os.cpu_count(), "platform": platform.platform(), "cpu": cpu_model(),
                         "python": platform.python_version()}
    print(json.dumps({k: v for k, v in result.items() if k != "tail"}, indent=1))
    print("\n".join(result["tail"][-5:]))
    if not args.no_record:
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"history": []}
        data["latest"] = result
        data["history"].append({k: result.get(k) for k in ("date", "label", "commit", "pytest_args", "how", "wall_s",
                                                           "pytest_s", "summary", "load_average_before",
                                                           "load_average_after")})
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(data, indent=1) + "\n")
        print(f"recorded in {RESULTS.relative_to(ROOT)}")
    return 0 if result["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
