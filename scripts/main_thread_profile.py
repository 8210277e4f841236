#!/usr/bin/env python3
"""Where the main thread of a training step spends the time it works alone.

On Flex the convolutions share their work among the pool's threads, but every other
operation (Burn's element-wise ops, the calls that set up each kernel) runs on the thread
that calls it, while the pool waits. This script reads a `perf` recording of one
`bench_item` run and counts the samples of the main thread inside `CycleGan::train_step`,
grouped by the innermost function of this crate (or Burn's Flex backend) on the stack and
by the leaf function, so the serial part of a step can be read off:

    perf record -o perf.data -F 300 --call-graph dwarf,32768 \\
        $CARGO_TARGET_DIR/release/examples/bench_item --item train_step_128 --repeats 1
    perf script -i perf.data -F tid,ip,sym > perf.txt
    python3 scripts/main_thread_profile.py perf.txt --steps 2

(`--repeats 1` after the default one warm-up runs two steps; at 300 Hz each sample is
1/300 s of the main thread's CPU time.)
"""
import argparse
import collections


def read_samples(path):
    """(thread id, stack leaf first) for every sample of `perf script -F tid,ip,sym`."""
    samples, current = [], None
    for line in open(path, encoding="utf-8", errors="replace"):
        text = line.strip()
        if not text:
            if current:
                samples.append(current)
            current = None
        elif current is None:
            current = (text.split()[0], [])
        else:
            parts = text.split(None, 1)
            current[1].append(parts[1] if len(parts) > 1 else "?")
    if current:
        samples.append(current)
    return samples


def owner(stack):
    """The innermost frame of this crate or of Burn's Flex backend (closures skipped)."""
    for frame in stack:
        if ("cyclegan_burn::" in frame or "burn_flex::" in frame) and "closure" not in frame:
            return frame
    return stack[0] if stack else "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("script", help="output of perf script -F tid,ip,sym")
    parser.add_argument("--steps", type=int, default=2, help="training steps recorded")
    parser.add_argument("--hz", type=float, default=300.0, help="perf record's -F")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    samples = read_samples(args.script)
    if not samples:
        raise SystemExit(f"{args.script}: no samples")
    main_thread = samples[0][0]  # the process's first sample is its main thread's
    in_step = [stack for tid, stack in samples
               if tid == main_thread and any("train_step" in frame for frame in stack)]
    per_step = len(in_step) / args.hz / args.steps
    print(f"main thread {main_thread}: {len(in_step)} samples in train_step, "
          f"{per_step:.3f} s per step")
    for title, key in (("by function", owner), ("by leaf", lambda stack: stack[0])):
        print(f"\n{title} (s per step):")
        counts = collections.Counter(key(stack)[:120] for stack in in_step)
        for name, count in counts.most_common(args.top):
            print(f"{count / args.hz / args.steps:8.3f}  {name}")


if __name__ == "__main__":
    main()
