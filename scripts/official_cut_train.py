#!/usr/bin/env python3
"""Runs the official CUT `train.py` (taesungp/contrastive-unpaired-translation) as it is, with
one change: every InstanceNorm receives contiguous gradients, because PyTorch 2.15's CPU
`instance_norm` backward is wrong for the permuted gradients CUT's netF sends back into the
generator (docs/parity.md; `instance_norm_backward_is_wrong` in make_cut_fixtures.py checks the
installed PyTorch). Pass `--as_is` first to run the official code unpatched.

    pip install torch torchvision dominate packaging
    python3 scripts/official_cut_train.py --cut_repo contrastive-unpaired-translation -- \\
        --dataroot ../shared/data/facades --name facades_cut --model cut --gpu_ids -1 ...

The run writes the official checkpoints (`<checkpoints_dir>/<name>/latest_net_G.pth`, ...),
which this crate's `evaluate --model .../latest_net_G.pth` scores (the anti-aliased
generator is detected from its keys). `--seed N` seeds torch, numpy and random before the
official code starts (it has no seed option of its own).
"""
import argparse
import os
import random
import runpy
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cut_repo", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--as_is", action="store_true", help="no InstanceNorm gradient fix")
    args, official = parser.parse_known_args()
    if official and official[0] == "--":
        official = official[1:]
    if args.threads:
        torch.set_num_threads(args.threads)
    sys.path.insert(0, HERE)
    from make_cut_fixtures import instance_norm_backward_is_wrong, with_contiguous_instance_norm_gradients

    bug = instance_norm_backward_is_wrong()
    print(f"instance_norm backward wrong for non-contiguous gradients: {bug}; "
          f"{'running as is' if args.as_is else 'gradients made contiguous'}", flush=True)
    if not args.as_is:
        with_contiguous_instance_norm_gradients()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    repo = os.path.abspath(args.cut_repo)
    sys.path.insert(0, repo)
    os.chdir(repo)
    sys.argv = [os.path.join(repo, "train.py")] + official
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
