#!/usr/bin/env python3
"""What each write costs in each warm-up window of `cohort bench commit` (docs/BENCHMARKS.md,
"What the slumps are not", "Counted per write").

Usage: python3 scripts/per-write.py [--from-age S] -- scripts/cohort bench commit ARGS...

Runs the bench, passing its output through, and reads /proc once a second beside it: the machine's
CPU split and context switches, and each server's and the load JVM's CPU and voluntary context
switches (summed over their threads). Then, for every 5 s warm-up window from --from-age (default
60 s) of server age: ops/s, the machine's context switches per write, the servers' CPU (us) and
voluntary switches per write (and how much of that CPU the collector's threads took), the load
JVM's, the machine's idle and kernel shares; and the correlation of ops/s with each. Reads /proc
only (Linux); nothing is written."""
import os, re, statistics, subprocess, sys, threading, time

HZ = os.sysconf('SC_CLK_TCK')
# The collectors' own threads (ZGC, G1, Shenandoah, Serial/Parallel share "GC Thread" and "VM Thread")
GC_THREADS = ('ZWorker', 'ZDriver', 'ZDirector', 'ZStat', 'ZUnmapper', 'ZUncommitter', 'G1 ', 'GC Thread',
              'VM Thread', 'Shenandoah', 'ShenandoahGC')


def kind(cmd):
    if b'io.cohort.server.ServerMain' in cmd:
        return 'server'
    if any(c.endswith(b'NoopServer') for c in cmd):
        return 'server'
    return 'load' if b'bench' in cmd else None


def sample():
    per = {'server': [0.0, 0, 0.0], 'load': [0.0, 0, 0.0]}  # CPU s, voluntary switches, the collector's CPU s
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            cmd = open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\0')
            k = kind(cmd) if cmd and cmd[0].endswith(b'java') else None
            if k is None:
                continue
            for tid in os.listdir(f'/proc/{pid}/task'):
                stat = open(f'/proc/{pid}/task/{tid}/stat').read()
                name, f = stat[stat.find('(') + 1:stat.rfind(')')], stat.rsplit(')', 1)[1].split()
                cpu = (int(f[11]) + int(f[12])) / HZ
                per[k][0] += cpu
                if name.startswith(GC_THREADS):
                    per[k][2] += cpu
                for line in open(f'/proc/{pid}/task/{tid}/status'):
                    if line.startswith('voluntary_ctxt_switches'):
                        per[k][1] += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue  # a process or thread that ended while read
    cpu, ctxt = None, 0
    for line in open('/proc/stat'):
        w = line.split()
        if w[0] == 'cpu':
            cpu = list(map(int, w[1:9]))  # user nice system idle iowait irq softirq steal
        elif w[0] == 'ctxt':
            ctxt = int(w[1])
    return per, cpu, ctxt


def main(argv):
    from_age = 60.0
    if argv[:1] in (['-h'], ['--help']):
        print(__doc__)
        return 0
    if argv[:1] == ['--from-age']:
        from_age, argv = float(argv[1]), argv[2:]
    if argv[:1] != ['--'] or len(argv) < 2:
        sys.exit(__doc__)
    samples, windows, done = [], [], threading.Event()

    def sampler():
        while not done.is_set():
            t = time.time()
            samples.append((t,) + sample())
            done.wait(max(0.0, 1 - (time.time() - t)))

    threading.Thread(target=sampler, daemon=True).start()
    bench = subprocess.Popen(argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in bench.stdout:
        sys.stdout.write(line)
        m = re.match(r'\s+age\s+(\d+) s:\s+([\d,]+) ops/s', line)
        if m:
            windows.append((time.time(), float(m.group(1)), float(m.group(2).replace(',', ''))))
    rc = bench.wait()
    done.set()

    def near(t):
        return min(samples, key=lambda s: abs(s[0] - t))

    rows = []
    for t, age, ops in windows:
        a, b = near(t - 5), near(t)
        writes = ops * (b[0] - a[0])
        if age < from_age or writes <= 0:
            continue
        d = [y - x for x, y in zip(a[2], b[2])]
        total = sum(d) or 1
        srv = [b[1]['server'][i] - a[1]['server'][i] for i in (0, 1, 2)]
        load = [b[1]['load'][i] - a[1]['load'][i] for i in (0, 1)]
        rows.append((age, ops, (b[3] - a[3]) / writes, srv[0] / writes * 1e6, srv[1] / writes, load[0] / writes * 1e6,
                     load[1] / writes, 100 * (d[3] + d[4]) / total, 100 * (d[2] + d[5] + d[6]) / total,
                     srv[2] / writes * 1e6))
    print('\nper write, each warm-up window (a new phase restarts the ages)')
    print(f"{'age s':>5} {'ops/s':>7} {'switches':>8} {'servers us':>10} {'of it GC':>8} {'srv vol sw':>10} {'load us':>7} "
          f"{'load vol sw':>11} {'idle %':>6} {'kernel %':>8}")
    for r in rows:
        print(f"{r[0]:5.0f} {r[1]:7.0f} {r[2]:8.1f} {r[3]:10.0f} {r[9]:8.0f} {r[4]:10.2f} {r[5]:7.0f} {r[6]:11.2f} "
              f"{r[7]:6.1f} {r[8]:8.1f}")
    if len(rows) > 2:
        ops = [r[1] for r in rows]
        for i, name in ((2, 'machine switches per write'), (3, "servers' CPU per write"),
                        (9, "servers' collector CPU per write"), (7, 'machine idle')):
            try:
                print(f"correlation of ops/s with {name}: {statistics.correlation(ops, [r[i] for r in rows]):+.2f}")
            except statistics.StatisticsError:
                pass
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
