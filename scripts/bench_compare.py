#!/usr/bin/env python3
"""cyclegan-burn beside PyTorch on the same machine, in one run: every benchmark item of
benches/items.rs, each in a fresh process (ours, then PyTorch's, item by item so that both
see the same machine state), as a markdown table of times, ratios (ours / PyTorch), achieved
GFLOP/s and peak memory.

    cargo build --release --example bench_item
    python3 scripts/bench_compare.py --ours $CARGO_TARGET_DIR/release/examples/bench_item

`--backend wgpu` (with a build that has `--features wgpu`) compares another backend of ours
with PyTorch on the CPU. FLOP counts come from PyTorch's flop counter (2 per multiply-add).
"""
import argparse
import json
import os
import subprocess
import sys

ITEMS = [
    "generator_forward_64",
    "generator_forward_128",
    "generator_forward_256",
    "discriminator_forward_256",
    "train_step_64",
    "train_step_128",
]
HERE = os.path.dirname(os.path.abspath(__file__))


def run_json(command):
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True, help="path of the bench_item example binary")
    parser.add_argument("--backend", default="cpu")
    parser.add_argument("--items", default=",".join(ITEMS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--train_repeats", type=int, default=3)
    args = parser.parse_args()
    torch_script = os.path.join(HERE, "bench_pytorch.py")
    rows = []
    for item in args.items.split(","):
        repeats = args.train_repeats if item.startswith("train_step") else args.repeats
        flops = run_json([sys.executable, torch_script, "--flops", item])["flops"]
        ours = run_json([args.ours, "--item", item, "--backend", args.backend, "--repeats", str(repeats)])
        theirs = run_json([sys.executable, torch_script, "--item", item, "--repeats", str(repeats)])
        print(json.dumps(ours), file=sys.stderr)
        print(json.dumps(theirs), file=sys.stderr)
        rows.append((item, flops, ours, theirs))
    print(f"cyclegan-burn ({args.backend}) vs {rows[0][3]['impl']} ({rows[0][3]['backend']}), median of "
          f"{args.repeats} (training steps: {args.train_repeats}) after one warm-up\n")
    print("| item | GFLOP | ours (s) | PyTorch (s) | ratio ours / PyTorch | ours GFLOP/s | PyTorch GFLOP/s "
          "| peak RSS ours (MiB) | PyTorch (MiB) | memory ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for item, flops, ours, theirs in rows:
        g = flops / 1e9
        print(
            f"| {item} | {g:.1f} | {ours['median_s']:.3f} | {theirs['median_s']:.3f} "
            f"| **{ours['median_s'] / theirs['median_s']:.2f}** | {g / ours['median_s']:.1f} "
            f"| {g / theirs['median_s']:.1f} | {ours['peak_rss_mib']:.0f} | {theirs['peak_rss_mib']:.0f} "
            f"| {ours['peak_rss_mib'] / theirs['peak_rss_mib']:.2f} |"
        )


if __name__ == "__main__":
    main()
