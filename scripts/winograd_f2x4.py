#!/usr/bin/env python3
"""The matrices of Winograd's F(2x2, 4x4) in src/kernels/winograd4x4.rs, derived and checked.

For the interpolation points 0, 1, -1, 1/2 (and infinity; the set the crate uses), Lavin & Gray's construction gives
A^T (2x5) and G (5x4) in closed form; B^T (5x5) is the unique solution of

    sum_k A^T[i][k] G[k][l] B^T[k][j] = [j == i + l]   for every output i, tap l, input j,

which says that Y = A^T [(G g) * (B^T d)] is the correlation of d (5 values) with g (4).
The script prints the three matrices (those written out in winograd4x4.rs), checks them in
exact rational arithmetic, and measures the rounding of the 2-D algorithm in float32 against
float64 beside the direct float32 sum, for the discriminator's 256 -> 512 layer (256 input
channels, weights of N(0, 0.02) as the official init), over other point sets too. Worst
errors over 200 tiles, relative to the tile's largest output: 0, 1, -1, 1/2 gives 7.2e-6
against the direct sum's 4.3e-6; 0, 1, -1, 2 and the negative sets 1.1e-5 to 1.2e-5.

    python3 scripts/winograd_f2x4.py          # needs numpy

`--output M --kernel R` measures F(MxM, RxR) instead, over the sets of M + R - 2 points
(and infinity) drawn from 0, 1, -1, 2, -2, 1/2, -1/2 that contain 0, 1 and -1; the residual
blocks' 3x3 layers (256 channels) for F(4x4, 3x3) and F(3x3, 3x3), the alternatives to the
crate's F(2x2, 3x3) (docs/benchmarks.md, tenth session):

    python3 scripts/winograd_f2x4.py --output 4 --kernel 3
"""
import argparse
import itertools
from fractions import Fraction

import numpy as np

M, R = 2, 4
N = M + R - 1


def matrices(points):
    points = [Fraction(p) for p in points]
    a_t = [[p**i for p in points] + [Fraction(int(i == M - 1))] for i in range(M)]
    g = []
    for j, p in enumerate(points):
        f = Fraction(1)
        for k, q in enumerate(points):
            if k != j:
                f *= p - q
        g.append([p**k / f for k in range(R)])
    g.append([Fraction(0)] * (R - 1) + [Fraction(1)])
    # Solve for B^T (the system is square in its unknowns and of full rank).
    rows, rhs = [], []
    for i in range(M):
        for l in range(R):
            for j in range(N):
                row = np.zeros((N, N))
                for k in range(N):
                    row[k, j] = float(a_t[i][k] * g[k][l])
                rows.append(row.ravel())
                rhs.append(float(j == i + l))
    solution, _, rank, _ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    assert rank == N * N, "B^T is determined"
    b_t = [[Fraction(v).limit_denominator(1000) for v in row] for row in solution.reshape(N, N)]
    # Exact check: the correlation for every output, tap and input place.
    for i in range(M):
        for l in range(R):
            for j in range(N):
                total = sum(a_t[i][k] * g[k][l] * b_t[k][j] for k in range(N))
                assert total == int(j == i + l), (points, i, l, j, total)
    return a_t, g, b_t


def rounding(a_t, g, b_t, trials=200, channels=256, seed=0):
    rng = np.random.default_rng(seed)
    a32, g32, b32 = (np.array(m, dtype=np.float64).astype(np.float32) for m in (a_t, g, b_t))
    worst_winograd = worst_direct = 0.0
    for _ in range(trials):
        kernel = (rng.standard_normal((channels, R, R)) * 0.02).astype(np.float32)
        tile = rng.standard_normal((channels, N, N)).astype(np.float32)
        windows = np.lib.stride_tricks.sliding_window_view
        exact = np.einsum("cij,cxyij->xy", kernel.astype(np.float64),
                          windows(tile.astype(np.float64), (R, R), axis=(1, 2)))
        direct = np.einsum("cij,cxyij->xy", kernel, windows(tile, (R, R), axis=(1, 2)))
        u = np.einsum("ai,cij,bj->cab", g32, kernel, g32)
        v = np.einsum("ai,cij,bj->cab", b32, tile, b32)
        y = a32 @ (u * v).sum(0, dtype=np.float32) @ a32.T
        scale = np.abs(exact).max()
        worst_winograd = max(worst_winograd, np.abs(y - exact).max() / scale)
        worst_direct = max(worst_direct, np.abs(direct - exact).max() / scale)
    return worst_winograd, worst_direct


def other_size(output, kernel):
    """The point sets of F(output x output, kernel x kernel), the best rounding first."""
    global M, R, N
    M, R, N = output, kernel, output + kernel - 1
    extra = [2, -2, Fraction(1, 2), Fraction(-1, 2)]
    results = []
    for chosen in itertools.combinations(extra, N - 4):
        points = [0, 1, -1, *chosen]
        a_t, g, b_t = matrices(points)
        results.append((*rounding(a_t, g, b_t), points))
    baseline = None
    if (output, kernel) != (2, 3):
        M, R, N = 2, 3, 4
        baseline = rounding(*matrices([0, 1, -1]))
    tile = output + kernel - 1
    print(f"F({output}x{output}, {kernel}x{kernel}), {tile}x{tile} tiles: largest error relative to "
          "the largest output (256 channels, 200 tiles)")
    for winograd, direct, points in sorted(results, key=lambda r: r[0]):
        print(f"  points {[str(p) for p in points]} and infinity: float32 Winograd "
              f"{winograd:.2e}, direct sum {direct:.2e} ({winograd / direct:.1f}x)")
    if baseline:
        winograd, direct = baseline
        print(f"  F(2x2, 3x3) (points 0, 1, -1, the crate's residual blocks): {winograd:.2e}, "
              f"direct sum {direct:.2e} ({winograd / direct:.1f}x)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", type=int, default=2, help="M of F(MxM, RxR)")
    parser.add_argument("--kernel", type=int, default=4, help="R of F(MxM, RxR)")
    args = parser.parse_args()
    if (args.output, args.kernel) != (2, 4):
        other_size(args.output, args.kernel)
        return
    for points in ([0, 1, -1, 2], [0, 1, -1, Fraction(1, 2)], [0, 1, -1, -2],
                   [0, 1, -1, Fraction(-1, 2)]):
        a_t, g, b_t = matrices(points)
        winograd, direct = rounding(a_t, g, b_t)
        print(f"points {[str(p) for p in points]} and infinity: largest error relative to the "
              f"largest output, float32 Winograd {winograd:.2e}, direct sum {direct:.2e}")
        if points == [0, 1, -1, Fraction(1, 2)]:
            for name, matrix in (("B^T", b_t), ("G", g), ("A^T", a_t)):
                print(f"  {name} = " + str([[str(v) for v in row] for row in matrix]))


if __name__ == "__main__":
    main()
