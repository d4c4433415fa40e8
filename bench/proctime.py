"""Whole-process wall time and peak RSS of commands, run interleaved
(round-robin: every command once per round), after warm-up rounds.

  /usr/bin/python3 bench/proctime.py [--runs 5] [--warmup 1] [--tsv OUT.tsv]
      NAME 'COMMAND ...' [NAME 'COMMAND ...' ...]

COMMAND is split like a shell would (shlex) but run without a shell
(prefix it with `env VAR=value` for settings), its output discarded.
Each run is timed from just before fork/exec to its exit (os.wait4), and
its peak RSS is the one of that process alone (wait4's rusage). Prints a
Markdown table: median, min and max seconds, ratio of medians to the first
command, peak RSS (max over runs). A failing command stops everything.
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time


def run(argv):
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        sec = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            err.seek(0)
            sys.exit(f"proctime: {shlex.join(argv)} failed ({p.returncode}):\n"
                     + err.read().decode(errors="replace"))
    return sec, ru.ru_maxrss / 1024.0   # KiB -> MiB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--tsv", help="append one line per run: name, run, seconds, peak MiB")
    ap.add_argument("pairs", nargs="+", metavar="NAME COMMAND")
    a = ap.parse_args()
    if len(a.pairs) % 2:
        sys.exit("proctime: expected NAME COMMAND pairs")
    cmds = [(a.pairs[i], shlex.split(a.pairs[i + 1])) for i in range(0, len(a.pairs), 2)]
    for _ in range(a.warmup):
        for _, argv in cmds:
            run(argv)
    secs = {n: [] for n, _ in cmds}
    rss = {n: [] for n, _ in cmds}
    for r in range(a.runs):
        for n, argv in cmds:
            s, m = run(argv)
            secs[n].append(s)
            rss[n].append(m)
            if a.tsv:
                with open(a.tsv, "a") as f:
                    f.write(f"{n}\t{r + 1}\t{s:.4f}\t{m:.1f}\n")
    base = statistics.median(secs[cmds[0][0]])
    print(f"| command | median s | min s | max s | x {cmds[0][0]} | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for n, _ in cmds:
        med = statistics.median(secs[n])
        print(f"| {n} | {med:.3f} | {min(secs[n]):.3f} | {max(secs[n]):.3f} | {med / base:.1f} "
              f"| {max(rss[n]):.0f} |")


if __name__ == "__main__":
    main()
