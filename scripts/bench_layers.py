#!/usr/bin/env python3
"""The layers of examples/bench_layers.rs in PyTorch (CPU, 2 threads; or a GPU), same lines.

    python3 scripts/bench_layers.py 128 [repeats] [--device cuda] > pytorch.txt
    cargo run -q --release --example bench_layers -- 128 > ours.txt
    paste ours.txt pytorch.txt     # one after the other: run at once, they share the cores

Each line: two medians of 5 runs (or of the second argument's count) after one warm-up: a
fresh random input, the layer (the official resnet_9blocks ngf 64 layer at that input size,
then the basic discriminator's d1-d5) and the sum of its output, without gradients; then the
same with the backward pass of the sum. On a GPU (`--device cuda`, cuDNN's autotuning on as
the official code sets it, TF32 as PyTorch's defaults leave it for convolutions) every timed
run waits for the device. Run: pip install torch.
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


DEVICE = "cpu"
if "--device" in sys.argv:
    at = sys.argv.index("--device")
    DEVICE = sys.argv[at + 1]
    del sys.argv[at:at + 2]
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


def synchronize():
    if DEVICE != "cpu":
        torch.cuda.synchronize()


def time_layer(name, shape, layer):
    def median(backward):
        seconds = []
        for _ in range(REPEATS + 1):
            x = torch.rand(shape, device=DEVICE) * 2 - 1
            synchronize()
            start = time.perf_counter()
            if backward:
                layer(x.requires_grad_(True)).sum().backward()
                synchronize()
            else:
                with torch.no_grad():
                    layer(x).sum().item()
            seconds.append(time.perf_counter() - start)
        return sorted(seconds[1:])[REPEATS // 2] * 1e3

    forward = median(False)
    print(f"{name:14} {forward:8.2f} {median(True):8.2f} ms")


def main():
    torch.set_num_threads(2)
    if DEVICE != "cpu":
        torch.backends.cudnn.benchmark = True
        torch.set_default_device(DEVICE)
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    half, quarter = size // 2, size // 4
    reflect = lambda x, pad: F.pad(x, (pad, pad, pad, pad), mode="reflect")
    head = nn.Conv2d(3, 64, 7)
    time_layer("head", (1, 3, size, size), lambda x: head(reflect(x, 3)))
    down1 = nn.Conv2d(64, 128, 3, 2, 1)
    time_layer("down1", (1, 64, size, size), down1)
    down2 = nn.Conv2d(128, 256, 3, 2, 1)
    time_layer("down2", (1, 128, half, half), down2)
    residual = nn.Conv2d(256, 256, 3)
    block = (1, 256, quarter, quarter)
    time_layer("res_conv", block, lambda x: residual(reflect(x, 1)))
    time_layer("pad256", block, lambda x: reflect(x, 1))
    norm256 = nn.InstanceNorm2d(256)
    time_layer("norm_relu256", block, lambda x: torch.relu(norm256(x)))
    up1 = nn.ConvTranspose2d(256, 128, 3, 2, 1, 1)
    time_layer("up1", block, up1)
    up2 = nn.ConvTranspose2d(128, 64, 3, 2, 1, 1)
    time_layer("up2", (1, 128, half, half), up2)
    norm64 = nn.InstanceNorm2d(64)
    time_layer("norm_relu64", (1, 64, size, size), lambda x: torch.relu(norm64(x)))
    tail = nn.Conv2d(64, 3, 7)
    time_layer("tail", (1, 64, size, size), lambda x: torch.tanh(tail(reflect(x, 3))))
    leaky = lambda x: F.leaky_relu(x, 0.2)
    side = size
    for name, c_in, c_out, stride, normed in [
        ("d1", 3, 64, 2, False),
        ("d2", 64, 128, 2, True),
        ("d3", 128, 256, 2, True),
        ("d4", 256, 512, 1, True),
        ("d5", 512, 1, 1, False),
    ]:
        conv = nn.Conv2d(c_in, c_out, 4, stride, 1)
        norm = nn.InstanceNorm2d(c_out) if normed else None
        shape = (1, c_in, side, side)
        side = (side + 2 - 4) // stride + 1
        if norm is not None:
            layer = lambda x, conv=conv, norm=norm: leaky(norm(conv(x)))
        elif name == "d5":
            layer = conv
        else:
            layer = lambda x, conv=conv: leaky(conv(x))
        time_layer(name, shape, layer)


if __name__ == "__main__":
    main()
