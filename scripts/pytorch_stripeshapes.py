#!/usr/bin/env python3
"""Trains CycleGAN in PyTorch, with the official training algorithm, on a folder in the official
layout (trainA/, trainB/), and saves official checkpoints (latest_net_G_A.pth, ...) that
`cargo run --release --example evaluate -- --run OUT` scores like one of this crate's runs.

It exists to show what the official CycleGAN does at the README main command's preset, scored
by the same `evaluate` (docs/results.md, "The README's main command"):

    cargo run --release --example train -- --export_data /tmp/stripes
    python3 scripts/pytorch_stripeshapes.py --dataroot /tmp/stripes --out /tmp/torch_run
    cargo run --release --example evaluate -- --run /tmp/torch_run --num_test 200
    cargo run --release --example evaluate -- --run /tmp/torch_run --num_test 200 --direction BtoA

The defaults are that preset; each option has its official name. The code re-declares, line
for line, what junyanz/pytorch-CycleGAN-and-pix2pix runs for `train.py --model cycle_gan`:
the networks (scripts/torch_networks.py), init_weights('normal', 0.02), UnalignedDataset
(A in order, B drawn at random, shuffled loader) with get_transform for --preprocess none
(__make_power_2 to a multiple of 4, random horizontal flip, ToTensor, Normalize 0.5),
ImagePool, GANLoss('lsgan'), CycleGANModel.optimize_parameters (G step with D frozen, then
D_A and D_B on pooled fakes; these three in scripts/torch_cycle_gan.py) and the linear LambdaLR, stepped at the end of each epoch as this
crate's schedule does (docs/parity.md). With a checkout of the official repository the same
run is `python train.py --dataroot DIR --model cycle_gan --gpu_ids -1 --netG resnet_6blocks
--ngf 16 --netD n_layers --n_layers_D 1 --ndf 16 --preprocess none --load_size 32
--crop_size 32 --n_epochs 3 --n_epochs_decay 7 --lr 0.0005 --max_dataset_size 400
--display_id 0` (its scheduler steps at
the start of each epoch in recent versions: one epoch's decay earlier).

Run: pip install torch pillow numpy
"""
import argparse
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

from torch_cycle_gan import CycleGAN
from torch_networks import NLayerDiscriminator, ResnetGenerator, get_norm_layer


def image_paths(folder, max_dataset_size):
    """data/image_folder.py's make_dataset: sorted, truncated to max_dataset_size."""
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith((".png", ".jpg", ".jpeg")))
    return [os.path.join(folder, n) for n in names][:max_dataset_size]


def transform(path, no_flip):
    """get_transform(opt) for --preprocess none: power of 4, flip, ToTensor, Normalize(0.5)."""
    image = Image.open(path).convert("RGB")
    w, h = image.size
    w4, h4 = int(round(w / 4) * 4), int(round(h / 4) * 4)
    if (w4, h4) != (w, h):
        image = image.resize((w4, h4), Image.BICUBIC)
    if not no_flip and random.random() < 0.5:
        image = image.transpose(Image.FLIP_LEFT_RIGHT)
    x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)
    return ((x - 0.5) / 0.5).unsqueeze(0)


def init_weights(net, gain=0.02):
    """networks.init_weights(net, 'normal', 0.02)."""

    def init(m):
        name = m.__class__.__name__
        if hasattr(m, "weight") and (name.find("Conv") != -1 or name.find("Linear") != -1):
            nn.init.normal_(m.weight.data, 0.0, gain)
            if getattr(m, "bias", None) is not None:
                nn.init.constant_(m.bias.data, 0.0)

    net.apply(init)
    return net


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataroot", required=True)
    parser.add_argument("--out", required=True, help="where latest_net_*.pth are written")
    parser.add_argument("--ngf", type=int, default=16)
    parser.add_argument("--ndf", type=int, default=16)
    parser.add_argument("--n_blocks", type=int, default=6, help="6: resnet_6blocks, 9: resnet_9blocks")
    parser.add_argument("--n_layers_D", type=int, default=1, help="layers of the n_layers discriminator")
    parser.add_argument("--n_epochs", type=int, default=3)
    parser.add_argument("--n_epochs_decay", type=int, default=7)
    parser.add_argument("--lr", type=float, default=0.0005)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--lambda_A", type=float, default=10.0)
    parser.add_argument("--lambda_B", type=float, default=10.0)
    parser.add_argument("--lambda_identity", type=float, default=0.5)
    parser.add_argument("--pool_size", type=int, default=50)
    parser.add_argument("--max_dataset_size", type=int, default=400)
    parser.add_argument("--no_flip", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    o = parser.parse_args()

    torch.manual_seed(o.seed)
    random.seed(o.seed)
    np.random.seed(o.seed)
    torch.set_num_threads(o.threads)

    norm = get_norm_layer("instance")
    g_a = init_weights(ResnetGenerator(3, 3, o.ngf, norm, False, o.n_blocks))
    g_b = init_weights(ResnetGenerator(3, 3, o.ngf, norm, False, o.n_blocks))
    d_a = init_weights(NLayerDiscriminator(3, o.ndf, o.n_layers_D, norm))
    d_b = init_weights(NLayerDiscriminator(3, o.ndf, o.n_layers_D, norm))
    model = CycleGAN(g_a, g_b, d_a, d_b, o.lr, o.beta1, o.lambda_A, o.lambda_B, o.lambda_identity, o.pool_size)

    def rule(epoch):
        return 1.0 - max(0, epoch + 1 - o.n_epochs) / float(o.n_epochs_decay + 1)

    schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=rule) for opt in (model.opt_g, model.opt_d)]
    paths_a = image_paths(os.path.join(o.dataroot, "trainA"), o.max_dataset_size)
    paths_b = image_paths(os.path.join(o.dataroot, "trainB"), o.max_dataset_size)
    length = max(len(paths_a), len(paths_b))
    start, steps = time.time(), 0
    for epoch in range(1, o.n_epochs + o.n_epochs_decay + 1):
        totals = np.zeros(4)
        # The loader shuffles the indices; A is paths_a[index % len], B a random one.
        for index in torch.randperm(length).tolist():
            real_a = transform(paths_a[index % len(paths_a)], o.no_flip)
            real_b = transform(paths_b[random.randint(0, len(paths_b) - 1)], o.no_flip)
            losses = model.optimize_parameters(real_a, real_b)
            totals += [losses[name].item() for name in ("g", "d_a", "d_b", "cycle")]
            steps += 1
        for scheduler in schedulers:
            scheduler.step()
        g, da, db, cycle = totals / length
        print(
            f"epoch {epoch}: G {g:.3f}, D_A {da:.3f}, D_B {db:.3f}, cycle {cycle:.3f} "
            f"({steps} steps, {time.time() - start:.0f} s)",
            flush=True,
        )
    os.makedirs(o.out, exist_ok=True)
    for name, net in (("G_A", g_a), ("G_B", g_b), ("D_A", d_a), ("D_B", d_b)):
        torch.save(net.state_dict(), os.path.join(o.out, f"latest_net_{name}.pth"))
    print(f"trained {steps} steps in {time.time() - start:.0f} s; checkpoints in {o.out}")


if __name__ == "__main__":
    main()
