"""One trial in its own process: hard timeout, memory limit, crash detection, no orphans.

Trials run in children of a fork server (multiprocessing's ``forkserver``: a
clean, single-threaded process that imports the plugins once and forks each
trial from there), so a plugin that crashes, leaks or hangs costs only its
child, and peak memory is the trial's own. The same code runs a trial for the
``process`` executor (in the orchestrator) and on every Dask worker.

* Timeout: the child is killed with SIGKILL, which also ends a hang inside C
  code that blocks every signal. Status ``timeout``.
* Memory: the parent reads the child's private resident memory (pages it
  does not share with the fork server) every ``MEMORY_POLL_S`` seconds
  (Linux ``/proc``) and kills it above the limit; status ``memory``. Private,
  so the limit means the same whichever libraries the fork server happened
  to import first. A watchdog on resident memory, not ``RLIMIT_AS``: address
  space is not memory (torch, CUDA, OpenBLAS and every thread stack reserve
  far more than they touch), so an address-space limit fails trials that fit,
  in ways that depend on the libraries loaded. Its price: an allocation spike
  shorter than the polling period can overshoot the limit before the kill. A
  ``MemoryError`` inside the trial is reported as ``memory`` too.
* Crashes (a signal, ``os.abort()``, ``os._exit``): the pipe closes without a
  result; status ``crashed`` with the signal or exit code. Children volunteer
  first for the kernel's out-of-memory killer (``oom_score_adj``), so a trial
  that exhausts the machine dies instead of its orchestrator or Dask worker.
* No orphans: the fork server exits when the process that started it (the
  orchestrator or a Dask worker) dies, and each child asks the kernel for
  SIGKILL when its parent, the fork server, dies (Linux ``PR_SET_PDEATHSIG``).
  Trials thus die with their orchestrator or worker, even after a SIGKILL.
  (Elsewhere than Linux they may not.)
* Every process a trial starts ends with it, finished or killed: helpers,
  servers, a forgotten ``Popen``, a daemon that forks twice or starts a
  session of its own. The trial's process is a child subreaper (Linux
  ``PR_SET_CHILD_SUBREAPER``): whatever its descendants orphan is re-parented
  to it, not to init, so it stays in the trial's process tree, and every
  process it starts inherits a marker in its environment. When the trial
  ends, its watcher kills the tree and every process with its marker, round
  after round until none is left (``kill_tree``). What cannot be caught: a
  process that drops its environment *and* leaves the tree because the
  trial's process died first, and what the plugin asks another machine or a
  service (``systemd-run``, ``ssh``) to start; and after a SIGKILL of the
  orchestrator or worker itself, nothing is left to kill a process that
  started its own session.
* Output: the trial's stdout and stderr go to a pipe its watcher drains into
  a bounded ``TrialOutput`` (``benchbase.execution.output``), which returns
  with the ``Outcome``; none of it reaches the terminal.
* Environment: a trial's process starts with ``TRIAL_ENVIRONMENT`` added to
  the orchestrator's (a variable the user set keeps the user's value).
* Ctrl-C: children ignore SIGINT (and, leading their own process groups, do
  not get the terminal's) and leave it to the orchestrator, which kills them.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator

from benchbase.execution.output import TrialOutput
from benchbase.results.record import Outcome, Status, TrialResult
from benchbase.timing import peak_rss_mb

#: How often the parent checks a child's resident memory (seconds).
MEMORY_POLL_S = 0.1
#: How often ``run_isolated`` asks whether its trial is still wanted (seconds).
CANCEL_POLL_S = 1.0
#: Seconds a child that sent its result (or closed its pipe) gets to exit.
EXIT_GRACE_S = 5.0

#: How the error of a trial killed for ``--memory-limit`` begins (its own size:
#: the orchestrator does not run it again alone, as it does a ``MemoryError``).
LIMIT_KILL = "private memory reached"
#: The environment variable that marks every process of one trial.
MARKER = "BENCHBASE_TRIAL_PROCESS"
#: Rounds of ``kill_tree`` at most (a process may fork while the tree is walked).
KILL_ROUNDS = 20

#: Variables a trial's process (and the fork server it comes from) starts with
#: unless the user's environment sets them. NumPy asks the kernel to back every
#: array of 4 MiB or more with transparent huge pages; where the kernel then
#: compacts memory on the first touch (THP ``defrag`` set to ``madvise``, a
#: common default), a trial stalls in the kernel, the longer the more
#: fragmented memory is: a gigabyte's first touch took 0.5 s without the
#: advice and 1.2–9 s with it (docs/speed.md, "Freed memory goes back to the
#: host"). NumPy reads the variable once, at import.
TRIAL_ENVIRONMENT = {"NUMPY_MADVISE_HUGEPAGE": "0"}

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def memory_limit_supported() -> bool:
    return sys.platform.startswith("linux")


def private_mb(pid: int) -> float | None:
    """The resident memory a process holds for itself, in MiB (None once it is gone).

    Its private pages (``Private_Clean`` + ``Private_Dirty`` of
    ``/proc/PID/smaps_rollup``), not its resident set: a trial forked from the
    fork server shares the pages of every library the server imported (torch
    alone is hundreds of MiB) until it writes to them, and those cost the
    machine nothing more per trial. Resident set size where the kernel has no
    ``smaps_rollup`` (before Linux 4.14).
    """
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            kib = {name: int(value.split()[0]) for name, value in
                   (line.split(":", 1) for line in rollup if line.endswith("kB\n"))}
        return (kib["Private_Clean"] + kib["Private_Dirty"]) / 2**10
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError):  # gone meanwhile, or unreadable
        return None
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _release_fork_server() -> None:
    """Let the fork server exit when the process that started it dies.

    multiprocessing hands every child of its fork server the descriptor whose
    closing tells the server that no client is left. A trial holding it keeps
    the server alive after its host died, and the server keeps the trial
    alive (see ``_die_with_parent``): both would outlive a killed
    orchestrator. Forgetting it also gives a trial that starts processes of
    its own a fork server of its own.
    """
    server = multiprocessing.forkserver._forkserver
    if server._forkserver_alive_fd is not None:  # None: not a fork server's child
        os.close(server._forkserver_alive_fd)
        server._forkserver_alive_fd = None


def _die_with_parent(host_pid: int) -> None:
    """Ask for SIGKILL when the fork server (our parent) dies; exit if the
    process that wanted this trial is already gone."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    try:
        os.kill(host_pid, 0)
    except ProcessLookupError:
        os._exit(1)
    if os.getppid() != parent:  # the fork server died before prctl took effect
        os._exit(1)


def _hold_descendants(marker: str) -> None:
    """Keep every process this trial starts findable (``kill_tree``): a
    process group of its own, child subreaper, and a marker they inherit."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    os.environ[MARKER] = marker


def _processes() -> dict[int, int]:
    """pid -> parent pid of every live process (zombies left out; Linux /proc)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if fields[0] not in (b"Z", b"X"):
            found[int(entry)] = int(fields[1])
    return found


def _marked(pids, marker: str) -> set[int]:
    wanted = f"{MARKER}={marker}".encode()
    found = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                if wanted in environ.read().split(b"\0"):
                    found.add(pid)
        except OSError:  # gone, or another user's
            continue
    return found


def kill_tree(root: int, marker: str) -> None:
    """SIGKILL ``root`` and every process it started: its descendants and any
    process with its marker (one that left the tree before its subreaper
    caught it), round after round until none is left."""
    if not os.path.isdir("/proc"):  # not Linux: the process group is all there is
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(root, signal.SIGKILL)
        return
    for _ in range(KILL_ROUNDS):
        parents = _processes()
        victims = _marked(parents, marker)
        children: dict[int, list[int]] = {}
        for pid, parent in parents.items():
            children.setdefault(parent, []).append(pid)
        stack = [root] if root in parents else []
        while stack:
            pid = stack.pop()
            victims.add(pid)
            stack.extend(children.get(pid, ()))
        victims.discard(os.getpid())
        if not victims:
            return
        for pid in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)  # let the kernel reparent and reap before looking again


def _first_for_the_oom_killer() -> None:
    """When memory runs out, the kernel should kill this trial, not its host."""
    with contextlib.suppress(OSError):  # not Linux, or not allowed
        with open("/proc/self/oom_score_adj", "w", encoding="ascii") as adj:
            adj.write("1000")


def error_message(exc: BaseException) -> str:
    """The exception as its last traceback line ("ValueError: ..."); the
    harness's own exceptions by their bare class name."""
    if type(exc).__module__.startswith("benchbase."):
        return f"{type(exc).__name__}: {exc}"
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def call(fn: Callable[..., TrialResult], args: tuple) -> Outcome:
    """``fn(*args)`` in this process, as an ``Outcome``: its result, or why it
    failed (a ``MemoryError`` is ``memory``)."""
    try:
        return Outcome(Status.OK, fn(*args))
    except MemoryError as exc:
        return Outcome(Status.MEMORY,
                       error=f"{error_message(exc)} (peak {peak_rss_mb():.0f} MiB)")
    except Exception as exc:
        return Outcome(Status.ERROR, error=error_message(exc))


def _send_output_to(pipe) -> None:
    """Point this process's stdout and stderr (file descriptors 1 and 2, so C
    libraries' output too) at the watcher's pipe."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    for fd in (1, 2):
        os.dup2(pipe.fileno(), fd)
    pipe.close()


def _child_main(conn, output, fn: Callable[..., TrialResult], args: tuple, host_pid: int,
                marker: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _release_fork_server()
    _hold_descendants(marker)
    _die_with_parent(host_pid)
    _first_for_the_oom_killer()
    _send_output_to(output)
    try:
        outcome = call(fn, args)
    except BaseException as exc:  # report everything, even SystemExit
        outcome = Outcome(Status.ERROR, error=error_message(exc))
    for stream in (sys.stdout, sys.stderr):  # before the result: the watcher reads both
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        conn.send(outcome)
    except Exception as exc:  # e.g. a result that cannot be pickled
        conn.send(Outcome(Status.ERROR, error="the trial's result could not be sent back: "
                          f"{error_message(exc)}"))
    finally:
        conn.close()


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Start a child without telling it the path of the ``__main__`` script.

    multiprocessing runs the parent's script again (as ``__mp_main__``) in every
    fork-server or spawned child, so that functions defined in it can be
    unpickled; a script that calls ``benchbase.run()`` without an ``if __name__
    == "__main__":`` guard would then start its whole run again inside each
    trial. Trials need nothing from the script (their estimators come from
    installed plugins), so the path is hidden while a child starts.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


@contextlib.contextmanager
def _trial_environment() -> Iterator[None]:
    """``TRIAL_ENVIRONMENT`` in this process's environment while a child starts
    (the fork server, started by the first child, inherits it), then removed."""
    added = {name: value for name, value in TRIAL_ENVIRONMENT.items()
             if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _context(preload: Iterable[str] = ()) -> multiprocessing.context.BaseContext:
    """A start method that never forks this (possibly multi-threaded) process.

    A child forked after the parent ran OpenMP work (torch, for one) can hang
    in its first parallel region. The fork server is a clean process that
    imports ``preload`` once and forks each trial from there; spawn elsewhere.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # The first call wins. Not "__main__": see _main_script_hidden.
    ctx.set_forkserver_preload(["benchbase.trial.evaluate", *preload])
    return ctx


def _exit_description(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown"
        hint = ": killed from outside, e.g. by the kernel's out-of-memory killer" \
            if -code == signal.SIGKILL else ""
        return f"signal {-code}, {name}{hint}"
    return f"exit code {code}"


class TrialProcess:
    """``fn(*args)`` in a child process, watched until it ends one way or another.

    ``start()`` it, wait on ``connection`` (``multiprocessing.connection.wait``)
    and call ``check()`` whenever the connection is ready or ``wake_at()``
    has passed; ``check()`` returns the ``Outcome`` once there is one.
    """

    def __init__(self, fn: Callable[..., TrialResult], args: tuple, *,
                 timeout: float | None = None, memory_limit_mb: float | None = None,
                 preload: Iterable[str] = ()) -> None:
        self.timeout = timeout
        self.memory_limit_mb = memory_limit_mb
        ctx = _context(preload)
        self.connection, sender = ctx.Pipe(duplex=False)
        reader, writer = ctx.Pipe(duplex=False)  # the child's stdout and stderr
        self._writers = (sender, writer)
        self.output = TrialOutput(os.dup(reader.fileno()))
        reader.close()
        self._marker = uuid.uuid4().hex
        self._process = ctx.Process(
            target=_child_main, args=(sender, writer, fn, args, os.getpid(), self._marker),
            daemon=True)
        self._deadline = None

    def start(self) -> None:
        with _main_script_hidden(), _trial_environment():
            self._process.start()
        for writer in self._writers:
            writer.close()
        if self.timeout is not None:
            self._deadline = time.monotonic() + self.timeout

    def waitables(self) -> list:
        """What ``multiprocessing.connection.wait`` should watch: the result,
        and the output while it flows (a full pipe would block the trial)."""
        return [self.connection, self.output] if self.output.open else [self.connection]

    def wake_at(self) -> float | None:
        """The monotonic time of the next check without a message (None: none needed)."""
        times = [self._deadline] if self._deadline is not None else []
        if self.memory_limit_mb is not None:
            times.append(time.monotonic() + MEMORY_POLL_S)
        return min(times, default=None)

    def check(self) -> Outcome | None:
        self.output.drain()
        if self.connection.poll():
            return self._receive()
        if self.memory_limit_mb is not None:
            held = private_mb(self._process.pid) or 0.0
            if held > self.memory_limit_mb:
                return self._ended(Outcome(Status.MEMORY, error=(
                    f"{LIMIT_KILL} {held:.0f} MiB, over the limit of "
                    f"{self.memory_limit_mb:g} MiB; the trial was killed")))
        if self._deadline is not None and time.monotonic() >= self._deadline:
            return self._ended(Outcome(Status.TIMEOUT, error=f"no result after "
                                       f"{self.timeout:g} s; the trial was killed"))
        return None

    def _receive(self) -> Outcome:
        try:
            outcome = self.connection.recv()
        except (EOFError, OSError):  # died before or while sending
            self.kill(grace=EXIT_GRACE_S)
            how = _exit_description(self._process.exitcode)
            outcome = Outcome(Status.CRASHED, error=f"the trial's process died ({how}) "
                              "without a result")
        # A thread the plugin left could keep the process alive: a grace, then kill.
        return self._ended(outcome, grace=EXIT_GRACE_S)

    def _ended(self, outcome: Outcome, grace: float = 0.0) -> Outcome:
        """``outcome`` with the trial's output, once it and its processes are gone."""
        self.kill(grace)
        return dataclasses.replace(outcome, output=self.output.text())

    def kill(self, grace: float = 0.0) -> None:
        """Stop the child (after ``grace`` seconds to exit by itself) and every
        process it started, reap it, and read the rest of its output."""
        self._process.join(grace)
        kill_tree(self._process.pid, self._marker)
        self._process.join()
        self.connection.close()
        self.output.drain()
        self.output.close()


def run_isolated(fn: Callable[..., TrialResult], args: tuple, *, timeout: float | None = None,
                 memory_limit_mb: float | None = None, preload: Iterable[str] = (),
                 cancelled: Callable[[], bool] | None = None) -> Outcome:
    """Run ``fn(*args)`` in a child process and wait for its ``Outcome``.

    ``cancelled()``, asked every ``CANCEL_POLL_S``, ends the wait early: the
    child is killed and the outcome is ``crashed`` (nobody wants it any more).
    """
    child = TrialProcess(fn, args, timeout=timeout, memory_limit_mb=memory_limit_mb,
                         preload=preload)
    child.start()
    try:
        while True:
            wakes = [child.wake_at()]
            if cancelled is not None:
                wakes.append(time.monotonic() + CANCEL_POLL_S)
            wake = min((w for w in wakes if w is not None), default=None)
            wait = None if wake is None else max(0.0, wake - time.monotonic())
            multiprocessing.connection.wait(child.waitables(), wait)
            outcome = child.check()
            if outcome is not None:
                return outcome
            if cancelled is not None and cancelled():
                return Outcome(Status.CRASHED, error="cancelled; the trial was killed")
    finally:
        child.kill()
