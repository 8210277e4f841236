#!/usr/bin/env python3
"""cyclegan-burn beside PyTorch on the same machine, in one run: every benchmark item of
benches/items.rs, each in a fresh process (ours, then PyTorch's, item by item so that both
see the same machine state), as a markdown table of times, ratios (ours / PyTorch), achieved
GFLOP/s and peak memory.

    cargo build --release --example bench_item
    python3 scripts/bench_compare.py --ours $CARGO_TARGET_DIR/release/examples/bench_item

`--backend wgpu` (with a build that has `--features wgpu`) compares another backend of ours
with PyTorch on the CPU. `--cut_repo` (a clone of the official CUT code) is needed for the cut_step_<size> and
fastcut_step_<size> items. `--baseline` adds an older build of bench_item beside both (before
and after a change, in the same runs), and `--rounds N` repeats the three runs of each item N
times, interleaved, reporting the median of the rounds (this VM's speed drifts by 10-20 %
within minutes). FLOP counts come from PyTorch's flop counter (2 per multiply-add).
"""
import statistics
import argparse
import json
import os
import subprocess
import sys

ITEMS = [
    "train_step_32",
    "generator_forward_64",
    "generator_forward_128",
    "generator_forward_256",
    "discriminator_forward_256",
    "train_step_64",
    "train_step_128",
    "translate_folder_256",
    "decode_folder_256",
    "decode_folder_image_crate_256",
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
    parser.add_argument("--baseline", help="an older bench_item binary to time beside --ours")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--cut_repo", help="the official CUT code, for cut_step / fastcut_step items")
    args = parser.parse_args()
    torch_script = os.path.join(HERE, "bench_pytorch.py")
    rows = []
    for item in args.items.split(","):
        training = item.startswith(("train_step", "cut_step", "fastcut_step"))
        repeats = str(args.train_repeats if training else args.repeats)
        torch_command = [sys.executable, torch_script]
        if args.cut_repo:
            torch_command += ["--cut_repo", args.cut_repo]
        flops = run_json(torch_command + ["--flops", item])["flops"]
        runs = {"ours": [], "theirs": [], "baseline": []}
        for _ in range(args.rounds):
            commands = [("ours", [args.ours, "--backend", args.backend])]
            if args.baseline:
                commands.append(("baseline", [args.baseline, "--backend", args.backend]))
            commands.append(("theirs", torch_command))
            for name, command in commands:
                result = run_json(command + ["--item", item, "--repeats", repeats])
                print(json.dumps(result), file=sys.stderr)
                runs[name].append(result)
        median = {
            name: dict(results[0], median_s=statistics.median(r["median_s"] for r in results))
            for name, results in runs.items()
            if results
        }
        rows.append((item, flops, median["ours"], median["theirs"], median.get("baseline")))
    print(f"cyclegan-burn ({args.backend}) vs {rows[0][3]['impl']} ({rows[0][3]['backend']}), median of "
          f"{args.repeats} (training steps: {args.train_repeats}) after one warm-up"
          + (f", median of {args.rounds} interleaved rounds" if args.rounds > 1 else "") + "\n")
    base = args.baseline is not None
    print("| item | GFLOP |" + (" baseline (s) |" if base else "") + " ours (s) | PyTorch (s) |"
          + (" ours / baseline |" if base else "") + " ratio ours / PyTorch | ours GFLOP/s "
          "| PyTorch GFLOP/s | peak RSS ours (MiB) | PyTorch (MiB) | memory ratio |")
    print("|---" * (10 + 2 * base) + "|")
    for item, flops, ours, theirs, baseline in rows:
        g = flops / 1e9
        print(
            f"| {item} | {g:.1f} |"
            + (f" {baseline['median_s']:.3f} |" if base else "")
            + f" {ours['median_s']:.3f} | {theirs['median_s']:.3f} |"
            + (f" {ours['median_s'] / baseline['median_s']:.2f} |" if base else "")
            + f" **{ours['median_s'] / theirs['median_s']:.2f}** | {g / ours['median_s']:.1f} "
            f"| {g / theirs['median_s']:.1f} | {ours['peak_rss_mib']:.0f} | {theirs['peak_rss_mib']:.0f} "
            f"| {ours['peak_rss_mib'] / theirs['peak_rss_mib']:.2f} |"
        )

if __name__ == "__main__":
    main()
