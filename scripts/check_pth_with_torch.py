#!/usr/bin/env python3
"""Checks .pth files written by cyclegan-burn with real PyTorch.

For every checkpoint of `cargo run --release --example export_pytorch -- --out DIR`:
  * torch.load(..., weights_only=True) reads it,
  * the official architecture (networks re-declared below exactly as in
    junyanz/pytorch-CycleGAN-and-pix2pix/models/networks.py) accepts it with
    load_state_dict(strict=True),
  * its forward pass (eval mode: BatchNorm running stats, no dropout) on the stored input
    matches the Rust output within 1e-4, or, where activations grow large (no
    normalisation), the Rust output is within three times PyTorch's own float32 error of a
    float64 run.

Run: pip install torch safetensors && python3 scripts/check_pth_with_torch.py DIR
"""
import sys

import torch
from safetensors.torch import load_file


from torch_networks import (
    NLayerDiscriminator,
    PixelDiscriminator,
    ResnetGenerator,
    UnetGenerator,
    get_norm_layer,
)


CASES = {
    "resnet_9blocks_instance": lambda: ResnetGenerator(3, 3, 8, get_norm_layer("instance"), False, 9),
    "resnet_6blocks_batch_dropout": lambda: ResnetGenerator(3, 3, 8, get_norm_layer("batch"), True, 6),
    "resnet_2blocks_none_zero": lambda: ResnetGenerator(3, 3, 8, get_norm_layer("none"), False, 2, "zero"),
    "unet_64_instance": lambda: UnetGenerator(3, 3, 6, 4, get_norm_layer("instance"), True),
    "basic_d_instance": lambda: NLayerDiscriminator(3, 8, 3, get_norm_layer("instance")),
    "n_layers_4_d_batch": lambda: NLayerDiscriminator(3, 8, 4, get_norm_layer("batch")),
    "pixel_d_instance": lambda: PixelDiscriminator(3, 8, get_norm_layer("instance")),
}


def main(folder):
    torch.set_num_threads(2)
    outputs = load_file(f"{folder}/outputs.safetensors")
    x = outputs["input"]
    failures = 0
    for name, build in CASES.items():
        net = build()
        state = torch.load(f"{folder}/{name}.pth", map_location="cpu", weights_only=True)
        net.load_state_dict(state, strict=True)
        net.eval()
        with torch.no_grad():
            y32 = net(x).double()
            y64 = net.double()(x.double())
        ours = outputs[name].double()
        diff = (ours - y32).abs().max().item()
        # Networks without normalisation (and BatchNorm with fresh running statistics) let
        # activations grow, and float32 error with them: measure both float32 results
        # against float64 and allow the crate three times PyTorch's own float32 error.
        ours_err = (ours - y64).abs().max().item()
        torch_err = (y32 - y64).abs().max().item()
        ok = diff <= 1e-4 or ours_err <= 3 * torch_err
        failures += not ok
        print(f"{name:30s} strict load OK; vs torch f32 {diff:.1e}; vs f64: ours {ours_err:.1e}, torch f32 {torch_err:.1e}  {'OK' if ok else 'FAIL'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1])
