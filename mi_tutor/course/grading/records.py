"""What the coordinator remembers between runs, inside the gradebook itself.

One row per graded submission in table ``mi_tutor_grading`` of
``gradebook.db`` (nbgrader ignores tables it does not know): the checksum of
the submission folder when it was graded, its status, the problems and the
tamper flags in words. A rerun skips submissions whose checksum is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
import time
from pathlib import Path

__all__ = ["submission_checksum", "load_records", "save_record", "template_gradebook", "integrity_ok",
           "save_outcome", "load_outcome"]

_TABLE = """CREATE TABLE IF NOT EXISTS mi_tutor_grading (
    student TEXT NOT NULL, assignment TEXT NOT NULL, checksum TEXT NOT NULL, status TEXT NOT NULL,
    score REAL, max_score REAL, problems TEXT NOT NULL, flags TEXT NOT NULL, graded_at REAL NOT NULL,
    PRIMARY KEY (student, assignment))"""


def submission_checksum(folder: Path, extra: str = "") -> str:
    """SHA-256 of every file name and content under ``folder`` (symlinks by their target), plus ``extra``."""
    h = hashlib.sha256(extra.encode())
    for path in sorted(folder.rglob("*")):
        h.update(str(path.relative_to(folder)).encode())
        if path.is_symlink():
            h.update(b"->" + str(path.readlink()).encode())
        elif path.is_file():
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()


_OUTCOME = """CREATE TABLE IF NOT EXISTS mi_tutor_outcome (
    student TEXT NOT NULL, assignment TEXT NOT NULL, evidence TEXT NOT NULL, computed TEXT NOT NULL,
    comments TEXT NOT NULL, policy TEXT NOT NULL, PRIMARY KEY (student, assignment))"""


def _connect(db: Path) -> sqlite3.Connection:
    con = sqlite3.connect(db, timeout=60)
    con.execute(_TABLE)
    con.execute(_OUTCOME)
    return con


def save_outcome(db: Path, student: str, assignment: str, evidence: list[str], computed: list[dict],
                 comments: list[dict], policy: str) -> None:
    """Remember the tamper evidence of a submission, its grades before the policy applied and the policy."""
    con = _connect(db)
    try:
        with con:
            con.execute("INSERT OR REPLACE INTO mi_tutor_outcome VALUES (?, ?, ?, ?, ?, ?)",
                        (student, assignment, json.dumps(evidence), json.dumps(computed), json.dumps(comments),
                         policy))
    finally:
        con.close()


def load_outcome(db: Path, student: str, assignment: str) -> dict | None:
    """What :func:`save_outcome` stored, or None."""
    con = _connect(db)
    try:
        row = con.execute("SELECT evidence, computed, comments, policy FROM mi_tutor_outcome WHERE student = ? AND "
                          "assignment = ?", (student, assignment)).fetchone()
        con.commit()
    finally:
        con.close()
    if row is None:
        return None
    return {"evidence": json.loads(row[0]), "computed": json.loads(row[1]), "comments": json.loads(row[2]),
            "policy": row[3]}


def load_records(db: Path, assignment: str) -> dict[str, dict]:
    """``{student: record}`` of the submissions of ``assignment`` graded before."""
    con = _connect(db)
    try:
        rows = con.execute("SELECT student, checksum, status, score, max_score, problems, flags FROM mi_tutor_grading "
                           "WHERE assignment = ?", (assignment,)).fetchall()
        con.commit()
    finally:
        con.close()
    return {r[0]: {"checksum": r[1], "status": r[2], "score": r[3], "max_score": r[4],
                   "problems": json.loads(r[5]), "flags": json.loads(r[6])} for r in rows}


def save_record(db: Path, student: str, assignment: str, checksum: str, status: str, score: float,
                max_score: float, problems: list[str], flags: list[str]) -> None:
    """Record a finished submission (one transaction: written whole or not at all)."""
    con = _connect(db)
    try:
        with con:
            con.execute("INSERT OR REPLACE INTO mi_tutor_grading VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (student, assignment, checksum, status, score, max_score, json.dumps(problems),
                         json.dumps(flags), time.time()))
    finally:
        con.close()


def template_gradebook(db: Path) -> bytes:
    """A copy of the gradebook with the assignments' definitions and no students or grades."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "template.db"
        src, dst = sqlite3.connect(db, timeout=60), sqlite3.connect(copy)
        try:
            src.backup(dst)
        finally:
            src.close()
        with dst:
            for table in ("grade", "comment", "submitted_notebook", "submitted_assignment", "student",
                          "mi_tutor_grading", "mi_tutor_outcome"):
                dst.execute(f"DELETE FROM {table}") if _has(dst, table) else None
        dst.execute("VACUUM")
        dst.close()
        return copy.read_bytes()


def _has(con: sqlite3.Connection, table: str) -> bool:
    return con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() is not None


def integrity_ok(db: Path) -> tuple[bool, str]:
    """``PRAGMA integrity_check`` of the gradebook."""
    con = sqlite3.connect(db, timeout=60)
    try:
        result = con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()
    return result == "ok", result
