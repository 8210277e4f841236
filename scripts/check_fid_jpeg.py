#!/usr/bin/env python3
"""FID of two image folders by pytorch-fid itself, with the formula weights of
make_inception_fixtures.py (no download), and those weights saved for the crate's `fid`
program, so that both compute the same FID end to end: PIL's decoding and pytorch-fid's
path on one side, the crate's decoder and network on the other.

    pip install torch torchvision pytorch-fid pillow numpy scipy
    python3 scripts/check_fid_jpeg.py --save_weights formula_inception.pth
    python3 scripts/check_fid_jpeg.py ../shared/data/horse2zebra/testA ../shared/data/horse2zebra/testB
    cargo run --release --example fid -- --inception formula_inception.pth --no_cache \\
        ../shared/data/horse2zebra/testA ../shared/data/horse2zebra/testB

The first prints nothing; the second prints pytorch-fid's FID (`calculate_fid_given_paths`,
batch 50, CPU, 2048 dimensions) with all its digits. docs/metrics.md has the figures.
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import pytorch_fid.inception as fid_inception  # noqa: E402
from make_inception_fixtures import formula_state_dict  # noqa: E402

# pytorch-fid's network fetches its weights with this function: the formula's instead.
fid_inception.load_state_dict_from_url = formula_state_dict


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="*")
    parser.add_argument("--save_weights", help="write the formula weights as a .pth file")
    parser.add_argument("--batch_size", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.save_weights:
        torch.save(fid_inception.fid_inception_v3().state_dict(), args.save_weights)
    if args.folders:
        from pytorch_fid.fid_score import calculate_fid_given_paths

        if len(args.folders) != 2:
            raise SystemExit("give two folders")
        fid = calculate_fid_given_paths(args.folders, args.batch_size, "cpu", 2048, 0)
        print(repr(float(fid)))


if __name__ == "__main__":
    main()
