#!/usr/bin/env python3
"""Times commands against each other, interleaved: every round runs each
command once, in a random order, so that drift of the machine (this VM's
timings wander by tens of percent over a minute) falls on all of them alike.
hyperfine runs all of one command's runs before the next command's, which
here moved a ratio between 1.26x and 1.62x from one run to the next.

    interleave.py [--pause MS] RUNS 'COMMAND' 'BASELINE' [...]

With --pause, the harness sleeps MS milliseconds (0 to 10000) before every
run, so that each run starts as a lone invocation does, not inside what the
run before it left the kernel doing. (With cgroup v1, a `crun run` started
within a few milliseconds of the previous one often skips a wait in its cgroup
write, 10-31 ms here, that a lone run pays. docs/benchmarks.md has the
measurements.)

Prints each command's median (and quartiles) and, for two or more, the ratio
of the first command's median to the last's and their difference. A command's
stdout goes to a pipe that is read to the end, as in the pipelines the tools
are made for; stdin and stderr are /dev/null. Programs are looked up on PATH
once, before timing. A command that fails stops the benchmark."""

import os
import random
import shlex
import shutil
import statistics
import sys
import time

WARMUP = 5


def run(argv, devnull):
    r, w = os.pipe()
    start = time.perf_counter()
    pid = os.posix_spawn(
        argv[0],
        argv,
        os.environ,
        file_actions=[
            (os.POSIX_SPAWN_DUP2, devnull, 0),
            (os.POSIX_SPAWN_DUP2, w, 1),
            (os.POSIX_SPAWN_DUP2, devnull, 2),
            (os.POSIX_SPAWN_CLOSE, r),
            (os.POSIX_SPAWN_CLOSE, w),
        ],
    )
    os.close(w)
    while os.read(r, 65536):
        pass
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - start
    os.close(r)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"interleave.py: failed ({os.waitstatus_to_exitcode(status)}): {shlex.join(argv)}")
    return elapsed


def main():
    args = sys.argv[1:]
    pause = 0.0
    if args[:1] == ["--pause"]:
        try:
            pause = float(args[1]) / 1000
        except (IndexError, ValueError):
            pause = -1
        if not 0 <= pause <= 10:
            sys.exit(f"interleave.py: --pause takes milliseconds from 0 to 10000\n\n{__doc__}")
        args = args[2:]
    try:
        runs = int(args[0]) if len(args) >= 2 else 0
    except ValueError:
        runs = 0
    if runs < 2:
        sys.exit(__doc__)
    commands = []
    for c in args[1:]:
        argv = shlex.split(c)
        program = shutil.which(argv[0]) if argv else None
        if program is None:
            sys.exit(f"interleave.py: no program to run in {c!r} (not found, or not executable)")
        commands.append([program] + argv[1:])
    devnull = os.open(os.devnull, os.O_RDWR)
    for argv in commands * WARMUP:
        if pause:
            time.sleep(pause)
        run(argv, devnull)
    times = [[] for _ in commands]
    for _ in range(runs):
        for i in random.sample(range(len(commands)), len(commands)):
            if pause:
                time.sleep(pause)
            times[i].append(run(commands[i], devnull))
    base = statistics.median(times[-1])
    for argv, t in zip(commands, times):
        q1, _, q3 = statistics.quantiles(t, n=4)
        median = statistics.median(t)
        print(
            f"  {shlex.join(argv)}: median {median * 1000:.2f} ms "
            f"(quartiles {q1 * 1000:.2f}-{q3 * 1000:.2f}, {len(t)} runs)"
        )
    if len(commands) > 1:
        first = statistics.median(times[0])
        print(f"  ratio of medians: {first / base:.2f}x (difference {(first - base) * 1000:+.2f} ms)")


main()
