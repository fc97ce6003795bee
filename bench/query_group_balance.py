#!/usr/bin/env python3
"""The query tiles each thread gets (the longest share: the call's critical
path in tiles) under -attn-tile-attention's query groups, for threads that
take the groups in turn (-attn-omp-schedule's cyclic schedule): groups of
exactly G tiles (the last one partial; attnc before the eighteenth stop)
against the groups sized by the thread count (as even as the tiles allow,
their number raised until the batch x heads x groups fill the threads'
last round). A model of the schedule, not a timing: it counts tiles, all
of the same cost (no mask), and ignores the smaller groups' extra key
traffic.

    python3 bench/query_group_balance.py [--query-tile 6] [--group 16]
"""

import argparse


def ceil_div(x, y):
    return -(-x // y)


def fixed_groups(tiles, group):
    return [min(group, tiles - i * group) for i in range(ceil_div(tiles, group))]


def thread_sized_groups(heads, tiles, group, threads):
    fewest = ceil_div(tiles, group)
    rounds = ceil_div(heads * fewest, threads)
    count = min(tiles, max(fewest, rounds * threads // max(heads, 1)))
    return [(j + 1) * tiles // count - j * tiles // count for j in range(count)]


def longest_share(groups, heads, threads):
    load = [0] * threads
    for i, size in enumerate(groups * heads):
        load[i % threads] += size
    return max(load)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--query-tile", type=int, default=6,
                    help="queries per tile (6 on AVX2, 8 on AVX-512)")
    ap.add_argument("--group", type=int, default=16,
                    help="at most this many tiles per group (the host's 16)")
    args = ap.parse_args()
    print("heads     n  tiles threads | fixed  sized  ratio | ideal")
    for heads, n in ((1, 2048), (1, 4096), (1, 8192), (8, 1024), (2, 1000)):
        tiles = ceil_div(n, args.query_tile)
        for threads in (2, 4, 8, 16, 32):
            fixed = longest_share(fixed_groups(tiles, args.group), heads, threads)
            sized = longest_share(
                thread_sized_groups(heads, tiles, args.group, threads), heads,
                threads)
            print("%5d %5d %6d %7d | %5d %6d %6.2f | %5.1f" % (
                heads, n, tiles, threads, fixed, sized, fixed / sized,
                heads * tiles / threads))


if __name__ == "__main__":
    main()
