#!/usr/bin/env python3
"""Where a server's sampled CPU goes, from a JFR recording (docs/BENCHMARKS.md, "Profile").

usage: scripts/jfr-share.py RECORDING.jfr [FRAME]

Prints the share of execution samples that are Cohort's own work: samples whose innermost
io.cohort frame has no org.apache.ratis frame above it (Ratis work called from Cohort, such as
the gRPC stream our interceptor forwards to, stays Ratis'), grouped by the outermost Cohort
frame. With FRAME (a substring such as CohortStateMachine.applyTransaction), also what the
samples under it call. Needs python3 and the JDK's jfr tool.
"""
import collections
import re
import subprocess
import sys


def stacks(recording):
    text = subprocess.run(["jfr", "print", "--events", "jdk.ExecutionSample", "--stack-depth", "80", recording],
                          check=True, capture_output=True, text=True).stdout
    for event in text.split("jdk.ExecutionSample {")[1:]:
        m = re.search(r"stackTrace = \[(.*?)\n\s*\]", event, re.S)
        if m:
            yield [re.sub(r"\(.*", "", line.strip()) for line in m.group(1).split("\n")
                   if line.strip() and not line.strip().startswith("...")]


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) >= 2 else 2
    samples = list(stacks(sys.argv[1]))
    own = collections.Counter()
    for frames in samples:
        for i, f in enumerate(frames):
            if f.startswith("io.cohort"):
                if not any(g.startswith("org.apache.ratis") for g in frames[:i]):
                    own[[g for g in frames if g.startswith("io.cohort")][-1]] += 1
                break
    total = sum(own.values())
    print(f"{sys.argv[1]}: {len(samples)} samples, Cohort's own {total} ({100 * total / max(1, len(samples)):.1f}%)")
    for frame, n in own.most_common(10):
        print(f"  {n:6d}  {frame}")
    if len(sys.argv) > 2:
        below = collections.Counter()
        for frames in samples:
            hits = [i for i, f in enumerate(frames) if sys.argv[2] in f]
            if hits:
                i = hits[-1]
                below[" < ".join(frames[max(0, i - 3):i][::-1]) or "(itself)"] += 1
        print(f"under {sys.argv[2]}: {sum(below.values())} samples")
        for path, n in below.most_common(15):
            print(f"  {n:6d}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
