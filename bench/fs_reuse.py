#!/usr/bin/env python3
"""Why tminus recycles the published generation instead of deleting it (BENCHMARKS.md).

Creates N folders with a 20 KB `index.html` each (the shape of a tminus version folder)
under DIR, three times in a row, deleting the tree between rounds, and prints the
system time of each round. On ext4 without a journal, inodes freed in the last minutes
are skipped by every allocation, so the rounds after a deletion cost many times the
first one; on a journalled file system or tmpfs they cost about the same.

    python3 bench/fs_reuse.py /path/on/the/disk [N]
"""
import os
import shutil
import sys
import time


def create(root, n, data):
    os.makedirs(root)
    for i in range(n):
        d = os.path.join(root, f"g{i:05d}")
        os.mkdir(d)
        with open(os.path.join(d, "index.html"), "wb") as f:
            f.write(data)


def main():
    base = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    data = b"x" * 20000
    root = os.path.join(base, "fs-reuse-tree")
    for round_ in range(3):
        if os.path.exists(root):
            shutil.rmtree(root)
        t0, c0 = time.time(), os.times()
        create(root, n, data)
        c1 = os.times()
        print(f"round {round_ + 1}: wall {time.time() - t0:.2f} s, "
              f"system {c1.system - c0.system:.2f} s, user {c1.user - c0.user:.2f} s")
    shutil.rmtree(root)


if __name__ == "__main__":
    main()
