#!/usr/bin/env python3
"""CPU of each Java process on this machine over SECONDS, in cores, split by thread name (digits
folded to '#'); a Cohort server is named by its --id, anything else is 'load'.
Usage: python3 scripts/thread-cpu.py SECONDS [TOP]   (reads /proc only; Linux)"""
import collections, os, re, sys, time

HZ = os.sysconf('SC_CLK_TCK')


def ticks(path):
    s = open(path).read()
    r = s.rfind(')')
    f = s[r + 2:].split()
    return s[s.find('(') + 1:r], int(f[11]) + int(f[12])  # name, utime + stime


def snapshot():
    out = {}
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            cmd = open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\0', b' ').decode()
            if not cmd.split(' ')[0].endswith('java'):
                continue
            m = re.search(r'--id[ =](\S+)', cmd)
            per = collections.Counter()
            for t in os.listdir(f'/proc/{pid}/task'):
                name, cpu = ticks(f'/proc/{pid}/task/{t}/stat')
                per[re.sub(r'\d+', '#', name)] += cpu / HZ
            out[(m.group(1) if m else 'load') + ':' + pid] = per
        except (OSError, IndexError, ValueError):
            continue  # the process or thread ended meanwhile
    return out


def main():
    seconds = float(sys.argv[1])
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    before = snapshot()
    time.sleep(seconds)
    after = snapshot()
    for proc in sorted(after):
        if proc not in before:
            continue
        # threads that ended meanwhile are missing from 'after': their CPU is not counted
        d = collections.Counter({k: v - before[proc].get(k, 0) for k, v in after[proc].items()})
        print(f'{proc}: {sum(d.values()) / seconds:.2f} cores  '
              + '  '.join(f'{k}={v / seconds:.3f}' for k, v in d.most_common(top) if v > 0))


if __name__ == '__main__':
    main()
