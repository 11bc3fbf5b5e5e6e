"""Stage timing: wall and CPU seconds, and what else kept the host busy."""

import subprocess
import sys
import time

import pytest

from benchbase.timing import OTHER_CPUS_MIN_SECONDS, host_busy_seconds, timed

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")


@linux
def test_another_process_spinning_during_a_stage_is_counted_as_other_work():
    spin = "import time\nend = time.perf_counter() + 3\nwhile time.perf_counter() < end: pass"
    other = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.3)  # let it start
        with timed() as stage:
            time.sleep(OTHER_CPUS_MIN_SECONDS + 0.5)  # this process idles meanwhile
    finally:
        other.kill()
        other.wait()
    assert stage.cpu_seconds < 0.1
    assert stage.other_cpus > 0.5  # the spinner had most of a CPU


def test_the_stages_own_cpu_time_is_not_counted_as_other_work(monkeypatch):
    readings = iter([100.0, 103.0])  # the host was busy 3 CPU seconds in all
    monkeypatch.setattr("benchbase.timing.host_busy_seconds", lambda: next(readings))
    end = time.perf_counter() + OTHER_CPUS_MIN_SECONDS + 0.2
    with timed() as stage:
        while time.perf_counter() < end:
            pass
    assert stage.cpu_seconds > 0.3  # it ran, and its CPU seconds are its own
    assert stage.other_cpus == pytest.approx(
        (3.0 - stage.cpu_seconds) / stage.wall_seconds)


@linux
def test_host_busy_seconds_only_grow():
    before = host_busy_seconds()
    assert before is not None and host_busy_seconds() >= before


def test_a_stage_too_short_to_tell_records_no_other_work():
    with timed() as stage:
        pass
    assert stage.other_cpus is None and stage.wall_seconds < OTHER_CPUS_MIN_SECONDS
