"""Processes in tests: finding what a run left behind, killing it, and plugins
installed the way pip would."""

import os
import signal
import textwrap
import time

MARK = "BENCHBASE_TEST_MARK"


def marked_processes(marker: str) -> list[int]:
    """Pids of the live processes whose environment carries ``marker``."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                if f"{MARK}={marker}".encode() in environ.read().split(b"\0"):
                    pids.append(int(entry))
            with open(f"/proc/{entry}/stat", "rb") as stat:
                if stat.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    pids.pop()  # a zombie: dead, waiting for its parent to reap it
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return pids


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.2)


def as_foreground_job():
    """``preexec_fn`` that gives the child the SIGINT an interactive shell gives a
    foreground job. Under a background job of a script (``cmd &``, nohup)
    SIGINT is ignored and children inherit that, so Python would never raise
    KeyboardInterrupt and a Ctrl-C test would wait forever."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def kill_all(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def running_command(argv: list[str]) -> list[int]:
    """Process ids whose command line is ``argv`` (Linux /proc)."""
    wanted = "\0".join(argv).encode() + b"\0"
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    if cmdline.read() == wanted:
                        found.append(int(entry))
            except OSError:  # gone meanwhile
                pass
    return found


def gone(argv: list[str], seconds: float = 10) -> bool:
    """Whether no process runs ``argv`` within ``seconds`` (a killed process is
    reaped by its new parent soon after)."""
    deadline = time.monotonic() + seconds
    while running_command(argv) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not running_command(argv)


def importing_from(folder, env=None) -> dict[str, str]:
    """``env`` (default: this process's environment) with ``folder`` first on
    PYTHONPATH, for a child process that must import from it."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH")]))
    return env


def install_fake_plugin(root, dist, module, source, version="1.0"):
    """Lay out an installed distribution with one ``benchbase`` entry point."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[benchbase]\n{module} = {module}\n")


