#!/usr/bin/env python3
"""Fixtures for tests/fid.rs: feature sets and the FID / KID values numpy and scipy give them.

    pip install numpy scipy pytorch-fid && python3 scripts/make_fid_fixtures.py

Writes tests/fixtures/fid/:

- features.npz: float32 feature sets (rows are vectors, 64 dimensions):
  `well_a`, `well_b` (400 vectors each: full-rank covariances), `singular_a`, `singular_b`
  (48 vectors each: rank-deficient covariances, as a small image set gives), `near_a`,
  `near_b` (400 vectors with two dimensions equal up to 1e-5: near-singular covariances);
  and the KID subsets' indices `kid_a`, `kid_b` (20 subsets of 100, from
  `np.random.RandomState(0).choice(n, 100, replace=False)` as torch-fidelity draws them).
- expected.npz: float64 results: `fid_well`, `fid_singular`, `fid_near` by pytorch-fid's own
  `calculate_frechet_distance` (scipy's `sqrtm`, with its retry for singular products) on
  `np.mean` / `np.cov(rowvar=False)` statistics, as its `calculate_activation_statistics`;
  `mu_well_a`, `sigma_well_a`; `kid_mean`, `kid_std` on `well_a`, `well_b` over the subsets,
  with torch-fidelity's polynomial kernel and unbiased MMD² (in float64).
- stats_well_a.npz: `np.savez(mu=..., sigma=...)` of `well_a`, as pytorch-fid writes a
  statistics file.
"""
import os

import numpy as np
from pytorch_fid.fid_score import calculate_frechet_distance

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "fid")
DIMS = 64


def features(rng, n, shift, scale):
    """Non-negative, correlated vectors, like post-ReLU pooled Inception features."""
    mixing = rng.normal(size=(DIMS, DIMS)) / np.sqrt(DIMS)
    z = rng.normal(size=(n, DIMS)) @ mixing * scale + shift
    return np.maximum(z, 0.0).astype(np.float32) + rng.uniform(0, 1e-3, size=(n, DIMS)).astype(np.float32)


def statistics(x):
    x = x.astype(np.float64)
    return np.mean(x, axis=0), np.cov(x, rowvar=False)


def fid(a, b):
    mu1, sigma1 = statistics(a)
    mu2, sigma2 = statistics(b)
    return calculate_frechet_distance(mu1, sigma1, mu2, sigma2)


def polynomial_kernel(x, y):
    # torch-fidelity: degree 3, gamma = 1 / dims, coef0 = 1.
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x, y):
    # torch-fidelity's `mmd2(..., mmd_est='unbiased')`.
    k_xx, k_xy, k_yy = polynomial_kernel(x, x), polynomial_kernel(x, y), polynomial_kernel(y, y)
    m = k_xx.shape[0]
    kt_xx = k_xx.sum() - np.diagonal(k_xx).sum()
    kt_yy = k_yy.sum() - np.diagonal(k_yy).sum()
    return (kt_xx + kt_yy) / (m * (m - 1)) - 2 * k_xy.sum() / (m * m)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2017)
    sets = {
        "well_a": features(rng, 400, 0.3, 1.0),
        "well_b": features(rng, 400, 0.5, 1.2),
        "singular_a": features(rng, 48, 0.3, 1.0),
        "singular_b": features(rng, 48, 0.4, 0.9),
    }
    near_a, near_b = features(rng, 400, 0.3, 1.0), features(rng, 400, 0.45, 1.1)
    for near in (near_a, near_b):
        near[:, 1] = near[:, 0] + rng.uniform(0, 1e-5, size=near.shape[0]).astype(np.float32)
    sets["near_a"], sets["near_b"] = near_a, near_b

    choice = np.random.RandomState(0)
    kid_a, kid_b = [], []
    for _ in range(20):
        kid_a.append(choice.choice(400, 100, replace=False))
        kid_b.append(choice.choice(400, 100, replace=False))
    kid_a, kid_b = np.array(kid_a, dtype=np.float64), np.array(kid_b, dtype=np.float64)
    a64, b64 = sets["well_a"].astype(np.float64), sets["well_b"].astype(np.float64)
    mmds = [mmd2_unbiased(a64[ia.astype(int)], b64[ib.astype(int)]) for ia, ib in zip(kid_a, kid_b)]

    np.savez(os.path.join(OUT, "features.npz"), kid_a=kid_a, kid_b=kid_b, **sets)
    mu, sigma = statistics(sets["well_a"])
    np.savez(
        os.path.join(OUT, "expected.npz"),
        fid_well=np.array([fid(sets["well_a"], sets["well_b"])]),
        fid_singular=np.array([fid(sets["singular_a"], sets["singular_b"])]),
        fid_near=np.array([fid(near_a, near_b)]),
        mu_well_a=mu,
        sigma_well_a=sigma,
        kid_mean=np.array([np.mean(mmds)]),
        kid_std=np.array([np.std(mmds)]),
    )
    np.savez(os.path.join(OUT, "stats_well_a.npz"), mu=mu, sigma=sigma)
    for name in ("fid_well", "fid_singular", "fid_near", "kid_mean", "kid_std"):
        print(name, np.load(os.path.join(OUT, "expected.npz"))[name][0])


if __name__ == "__main__":
    main()
