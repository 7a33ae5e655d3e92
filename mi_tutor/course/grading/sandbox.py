"""The bubblewrap sandbox a student's kernel runs in.

nbgrader runs outside the sandbox (it holds the gradebook and the hidden
tests); only the *kernel*, where student code runs, is sandboxed. Its launch
command becomes::

    bwrap <read-only system + python + package, private scratch and /tmp, no network,
           own pid namespace, dies with its parent>
      setpriv <unprivileged user>  prlimit <memory, cpu, file size, processes>
        python -m ipykernel_launcher -f CONNECTION_FILE

The kernel talks to nbgrader through ZeroMQ ``ipc`` sockets (files in the
scratch runtime folder), which work without a network. Nothing of the course
(gradebook, ``source/``, other students, the instructor's home) is mounted.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path


__all__ = ["SandboxConfig", "bwrap_path", "sandbox_available", "sandbox_prefix", "kernel_argv", "launch", "NOBODY"]

#: The unprivileged user kernels run as when grading runs as root.
NOBODY = 65534


@dataclass
class SandboxConfig:
    """What the sandbox of one kernel allows.

    Attributes:
        writable: Folders bound read-write (the kernel's working folder, the runtime folder).
        memory_bytes: Address-space limit (RLIMIT_AS) of the kernel.
        cpu_seconds: CPU-time limit (RLIMIT_CPU); the kernel is killed past it.
        file_bytes: Largest file the kernel may write (RLIMIT_FSIZE).
        processes: Processes and threads of the kernel's user (RLIMIT_NPROC).
        env: Extra environment variables of the kernel (thread counts...).
        isolate: False: no bubblewrap, only the resource limits (grading unisolated).
    """

    writable: list[str] = field(default_factory=list)
    memory_bytes: int = 8 << 30
    cpu_seconds: int = 600
    file_bytes: int = 200 << 20
    processes: int = 512
    env: dict[str, str] = field(default_factory=dict)
    isolate: bool = True

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def bwrap_path() -> str | None:
    """The ``bwrap`` executable, or None (install the Debian/Ubuntu package ``bubblewrap``)."""
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=1)
def sandbox_available() -> tuple[bool, str]:
    """Whether bubblewrap can make a sandbox here, and why not when it cannot.

    Returns:
        ``(True, "")`` or ``(False, reason in words)``.
    """
    bwrap = bwrap_path()
    if not bwrap:
        return False, "bubblewrap (bwrap) is not installed: `apt-get install bubblewrap`"
    cmd = sandbox_prefix(SandboxConfig(), probe=True) + ["true"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return False, f"bwrap failed to start: {err}"
    if out.returncode != 0:
        return False, f"bwrap cannot create namespaces here ({out.stderr.strip()[:200]})"
    return True, ""


def _read_only_roots() -> list[str]:
    package = Path(__file__).resolve().parents[2]  # mi_tutor/, without importing it (torch: slow)
    roots = {sys.prefix, sys.base_prefix, str(package)}
    return sorted(r for r in roots if Path(r).exists())


def _limits(cfg: SandboxConfig) -> list[str]:
    prlimit = shutil.which("prlimit")
    nproc = cfg.processes
    if os.geteuid() != 0:  # the limit counts every process of the uid: leave room for those running now
        nproc += _threads_of(os.geteuid())
    if not prlimit:
        return []
    return [prlimit, f"--as={cfg.memory_bytes}", f"--cpu={cfg.cpu_seconds}", f"--fsize={cfg.file_bytes}",
            f"--nproc={nproc}", "--core=0", "--"]


def _threads_of(uid: int) -> int:
    n = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [str(uid)]:
            n += int(fields.get("Threads", "1").strip() or 1)
    return n


def sandbox_prefix(cfg: SandboxConfig, probe: bool = False) -> list[str]:
    """The command that runs a program in the sandbox (append the program and its arguments).

    Without bubblewrap (``cfg.isolate`` False) only the resource limits remain.
    """
    if not cfg.isolate:
        return _limits(cfg) or ["/usr/bin/env"]
    cmd = [bwrap_path() or "bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
           "--die-with-parent", "--new-session", "--hostname", "grading",
           "--dev", "/dev", "--proc", "/proc", "--perms", "1777", "--tmpfs", "/tmp"]
    for top in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/") / top
        if p.is_symlink():
            cmd += ["--symlink", os.readlink(p), str(p)]
        elif p.exists():
            cmd += ["--ro-bind", str(p), str(p)]
    cmd += ["--ro-bind", "/etc", "/etc"]
    roots, writable = _read_only_roots(), [str(Path(w).resolve()) for w in cfg.writable]
    made: set[str] = set()
    for path in roots + writable:  # parents bwrap would otherwise create unreadable for nobody
        for parent in reversed(Path(path).parents[:-1]):
            if str(parent) not in made:
                made.add(str(parent))
                cmd += ["--perms", "0755", "--dir", str(parent)]
    for root in roots:
        cmd += ["--ro-bind", root, root]
    for w in writable:
        cmd += ["--bind", w, w]
    path = os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"])
    cmd += ["--clearenv", "--setenv", "PATH", path, "--setenv", "LANG", "C.UTF-8", "--setenv", "HOME", "/tmp",
            "--setenv", "MPLCONFIGDIR", "/tmp/mpl", "--setenv", "XDG_CACHE_HOME", "/tmp/cache", "--setenv", "TMPDIR", "/tmp"]
    for k, v in cfg.env.items():
        cmd += ["--setenv", k, v]
    cmd.append("--")
    if os.geteuid() == 0 and shutil.which("setpriv"):  # drop root: no capabilities, the limits apply
        cmd += [shutil.which("setpriv"), f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    return cmd + ([] if probe else _limits(cfg))


def kernel_argv(settings_file: str | Path) -> list[str]:
    """The ``argv`` of a kernelspec whose kernels start sandboxed with the settings in ``settings_file``.

    This file runs as a plain script (standard library only), so starting a kernel does not
    pay for importing the package and torch twice.
    """
    return [sys.executable, "-I", str(Path(__file__).resolve()), str(settings_file), "{connection_file}"]


def launch(settings_file: str, connection_file: str) -> None:  # pragma: no cover - replaces the process
    """Start an ipykernel in the sandbox (what :func:`kernel_argv` runs, before ``exec``)."""
    cfg = SandboxConfig(**json.loads(Path(settings_file).read_text()))
    if os.geteuid() == 0 and cfg.isolate:  # the kernel runs as nobody: let it read and write what it must
        for w in cfg.writable:
            _open_up(Path(w))
        os.chmod(connection_file, 0o644)
    cmd = sandbox_prefix(cfg) + [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]
    if not cfg.isolate:
        os.environ.update(cfg.env)
    os.execv(cmd[0], cmd)


def _open_up(folder: Path) -> None:
    if not folder.exists():
        return
    for p in [folder, *folder.rglob("*")]:
        try:
            os.chmod(p, 0o777 if p.is_dir() else 0o666)
        except OSError:
            pass


if __name__ == "__main__":  # pragma: no cover
    launch(sys.argv[1], sys.argv[2])
