"""Runs commands for the benchmark: timed and alternating, under GNU time for the peak
memory, and under strace for the system calls.

A timed run is one `posix_spawn` and one `wait4`: its time is the wall-clock time between
them, and its CPU time the user and system time `wait4` reports for the child (all its
threads). Before each, the scratch filesystem is synced (untimed), so that no run pays
for writing back what the one before it changed.

Peak memory is measured in separate runs under GNU `time -f %M`, a small process: a
child's maximum resident set counts the memory of the process it was spawned from (the
kernel keeps the larger of the two across `exec`), so it cannot be read from this Python
process's own children.
"""

import os
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass
class Command:
    """One command to measure."""

    key: str
    label: str
    argv: list
    cwd: str
    env: dict
    # Run before each timed run, untimed (e.g. resetting the tree a first run changes).
    prepare: Optional[Callable[[], None]] = None
    # Checks the output of a run; returns what is wrong, or None. A benchmark of a run
    # that did the wrong thing would be meaningless, so a failed check stops everything.
    check: Optional[Callable[[str], Optional[str]]] = None
    # CPUs the command may run on (None: all of ours), as `taskset` would restrict it.
    cpus: Optional[set] = None


@dataclass
class Series:
    """The samples of one command, indexed by repetition (for paired ratios)."""

    command: Command
    # Wall-clock seconds, one per repetition.
    samples: list = field(default_factory=list)
    # User plus system CPU seconds, one per repetition.
    cpu_samples: list = field(default_factory=list)

    # Peak resident set of one run under GNU time, in KiB, once measured.
    peak_rss_kib: Optional[int] = None

    def median(self):
        return statistics.median(self.samples)

    def summary(self):
        return {
            "label": self.command.label,
            "argv": self.command.argv,
            "median_s": self.median(),
            "min_s": min(self.samples),
            "max_s": max(self.samples),
            "samples_s": self.samples,
            "cpu_median_s": statistics.median(self.cpu_samples),
            "cpu_samples_s": self.cpu_samples,
            "peak_rss_kib": self.peak_rss_kib,
        }


class BenchError(Exception):
    """A command failed or did the wrong thing: the figures would mean nothing."""


class Runner:
    """Runs commands in the scratch directory's filesystem, with output to a file there."""

    def __init__(self, scratch):
        self.scratch = scratch
        self.output_path = os.path.join(scratch, "last-run-output.txt")

    def _resolve(self, command):
        program = command.argv[0]
        resolved = program if "/" in program else shutil.which(program, path=command.env.get("PATH"))
        if not resolved:
            raise BenchError(f"{program}: not found on PATH {command.env.get('PATH')}")
        return resolved

    def _settle(self):
        """Writes back what earlier runs (or the prepare step) changed: `syncfs` of the
        scratch directory's filesystem."""
        run_untimed(["sync", "--file-system", self.scratch])

    def _spawn_and_wait(self, command, argv, program):
        """Runs `argv` as `command` says; returns (seconds, exit status, CPU seconds)."""
        file_actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, self.output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ]
        own_cpus = os.sched_getaffinity(0)
        previous_cwd = os.getcwd()
        os.chdir(command.cwd)
        try:
            # The child inherits the CPU mask it was spawned with; ours is restored at once.
            if command.cpus is not None:
                os.sched_setaffinity(0, command.cpus)
            try:
                started = time.perf_counter()
                pid = os.posix_spawn(program, argv, command.env, file_actions=file_actions)
            finally:
                if command.cpus is not None:
                    os.sched_setaffinity(0, own_cpus)
            _, status, rusage = os.wait4(pid, 0)
            elapsed = time.perf_counter() - started
        finally:
            os.chdir(previous_cwd)
        return elapsed, os.waitstatus_to_exitcode(status), rusage.ru_utime + rusage.ru_stime

    def _output(self):
        with open(self.output_path, errors="replace") as output:
            return output.read()

    def _run_checked(self, command, argv, program, what=""):
        """Prepares, runs and checks `command` (run as `argv`); returns (wall-clock, CPU)
        seconds."""
        if command.prepare:
            command.prepare()
        self._settle()
        elapsed, exit_code, cpu = self._spawn_and_wait(command, argv, program)
        output = self._output()
        if exit_code != 0:
            raise BenchError(f"{what}{command.label} exited with {exit_code}:\n{output}")
        if command.check:
            problem = command.check(output)
            if problem:
                raise BenchError(f"{what}{command.label}: {problem}\n{output}")
        return elapsed, cpu

    def run_once(self, command):
        """One timed run (after the untimed prepare), checked; returns (wall-clock, CPU)
        seconds."""
        return self._run_checked(command, command.argv, self._resolve(command))

    def alternate(self, commands, runs, warmups=1):
        """Runs every command `runs` times, interleaved: each repetition runs each command
        once, the order rotating by one every repetition, so that a drift in the machine's
        load (and any effect of what ran just before) spreads over all of them. The warm-up
        repetitions (same scheme) are not recorded."""
        series = {command.key: Series(command) for command in commands}
        for repetition in range(-warmups, runs):
            shift = repetition % len(commands)
            for command in commands[shift:] + commands[:shift]:
                elapsed, cpu = self.run_once(command)
                if repetition >= 0:
                    series[command.key].samples.append(elapsed)
                    series[command.key].cpu_samples.append(cpu)
        return series

    def peak_memory(self, command):
        """The peak resident set of one run, in KiB, as GNU `time -f %M` reports it."""
        report_path = self.output_path + ".time"
        gnu_time = "/usr/bin/time"
        argv = [gnu_time, "-f", "%M", "-o", report_path, "--", self._resolve(command)] + command.argv[1:]
        self._run_checked(command, argv, gnu_time, "time ")
        with open(report_path) as report:
            return int(report.read().split()[-1])

    def syscalls(self, command):
        """System-call counts of one run under `strace -f -c` (all threads and children):
        {name: calls}."""
        counts_path = self.output_path + ".strace"
        strace = shutil.which("strace")
        argv = [strace, "-f", "-c", "-o", counts_path, "--", self._resolve(command)] + command.argv[1:]
        self._run_checked(command, argv, strace, "strace ")
        with open(counts_path) as counts_file:
            counts = parse_strace_summary(counts_file.read())
        # strace 6.1 (Debian bookworm) knows no name for fchmodat2 (Linux 6.6) and leaves
        # it out of the `-c` table: it is counted in a second run tracing it alone.
        trace_path = self.output_path + ".fchmodat2"
        argv = [strace, "-f", "-qq", "-e", "trace=all", "-e", "signal=none", "-o", trace_path, "--",
                self._resolve(command)] + command.argv[1:]
        self._run_checked(command, argv, strace, "strace ")
        fchmodat2 = 0
        with open(trace_path) as trace:
            for line in trace:
                if FCHMODAT2_CALL.search(line):
                    fchmodat2 += 1
        if fchmodat2 and "fchmodat2" not in counts:
            counts["fchmodat2"] = fchmodat2
        return counts


# The start of a traced fchmodat2 call, by its name or, unnamed, by its number (452).
FCHMODAT2_CALL = re.compile(r"^(?:\d+\s+)?(?:fchmodat2|syscall_0x1c4)\(")

# A row of `strace -c`: % time, seconds, usecs/call, calls, [errors,] syscall.
STRACE_ROW = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$")


def parse_strace_summary(text):
    """{system call: calls} from the table `strace -c` writes."""
    counts = {}
    for line in text.splitlines():
        match = STRACE_ROW.match(line)
        if match and match.group(2) != "total":
            counts[match.group(2)] = counts.get(match.group(2), 0) + int(match.group(1))
    if not counts:
        raise BenchError(f"no system calls in the strace summary:\n{text}")
    return counts


def run_untimed(argv, **kwargs):
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, **kwargs)
