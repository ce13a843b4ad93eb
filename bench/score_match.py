#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Recall and precision of picket match alerts against the planted truth.

  score_match.py TRUTH ALERTS   (TRUTH: LOGFILE<TAB>LINE<TAB>IOCLINE lines)

An alert counts as the triple (log file name, log line, IOC list line);
prints "recall R precision P (tp T, fn N, fp M)" and the first misses.
"""
import json
import os
import sys


def main(truth_path, alerts_path):
    truth = set()
    with open(truth_path) as f:
        for line in f:
            a = line.rstrip("\n").split("\t")
            truth.add((a[0], int(a[1]), int(a[2])))
    got = set()
    with open(alerts_path) as f:
        for line in f:
            a = json.loads(line)
            ioc_line = int(a["ioc"].rsplit(":", 1)[1])
            got.add((os.path.basename(a["source"]), a["line"], ioc_line))
    tp = len(truth & got)
    fn = sorted(truth - got)
    fp = sorted(got - truth)
    recall = tp / len(truth) if truth else 1.0
    precision = tp / len(got) if got else 1.0
    print(f"recall {recall:.6f} precision {precision:.6f} (tp {tp}, fn {len(fn)}, fp {len(fp)})")
    for x in fn[:5]:
        print("  missed", x)
    for x in fp[:5]:
        print("  false ", x)
    return 0 if not fn and not fp else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
