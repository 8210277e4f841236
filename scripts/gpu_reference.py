#!/usr/bin/env python3
"""The small PyTorch golden (tests/fixtures/golden_small) recomputed on a GPU with TF32 on, as
PyTorch trains there by default for convolutions (cuDNN) and as Burn's CUDA kernels compute
(cubek stages float32 operands as TF32 on tensor cores, with no switch): the reference that
sets this crate's tolerance on that GPU from evidence (tests/parity.rs,
`gpu_outputs_stay_within_pytorchs_own_tf32_deviation`).

    python3 scripts/gpu_reference.py --device cuda --out /tmp/gpu-reference

Writes, with the golden's names and layouts:
  forward.safetensors   fake_B, rec_A, fake_A, rec_B, idt_A, idt_B, D_A_fake_B, D_B_fake_A,
                        D_A_real_B, D_B_real_A (the golden's initial weights and inputs)
  losses.safetensors    step1.loss_<term>, step2.loss_<term> of two optimize_parameters calls
  grads_G.safetensors   G_A.<key>, G_B.<key>: the generators' gradients of step 1
  grads_D.safetensors   D_A.<key>, D_B.<key>: the discriminators' gradients of step 1

The training step is the official optimize_parameters with the golden's settings (pool size 0,
LSGAN, lambda 10 and identity 0.5, Adam lr 2e-4 betas (0.5, 0.999)). `--device cpu` with
`--no-tf32` reproduces the CPU golden (a check of this script). Run: pip install torch
safetensors.
"""
import argparse
import os
import sys

import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_networks import NLayerDiscriminator, ResnetGenerator, get_norm_layer  # noqa: E402

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "golden_small")
TERMS = ["G_A", "G_B", "cycle_A", "cycle_B", "idt_A", "idt_B", "G", "D_A", "D_B"]


def networks(device):
    norm = get_norm_layer("instance")
    nets = {
        "G_A": ResnetGenerator(3, 3, 8, norm, False, 2),
        "G_B": ResnetGenerator(3, 3, 8, norm, False, 2),
        "D_A": NLayerDiscriminator(3, 8, 3, norm),
        "D_B": NLayerDiscriminator(3, 8, 3, norm),
    }
    for name, net in nets.items():
        net.load_state_dict(load_file(os.path.join(GOLDEN, f"{name}.safetensors")))
        net.to(device)
    return nets


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-tf32", action="store_true", help="float32 throughout")
    args = parser.parse_args()
    tf32 = not args.no_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)

    inputs = load_file(os.path.join(GOLDEN, "inputs.safetensors"))
    real_a = inputs["real_A"].to(device)
    real_b = inputs["real_B"].to(device)
    nets = networks(device)
    g_a, g_b, d_a, d_b = nets["G_A"], nets["G_B"], nets["D_A"], nets["D_B"]

    with torch.no_grad():
        fake_b = g_a(real_a)
        fake_a = g_b(real_b)
        forward = {
            "fake_B": fake_b,
            "rec_A": g_b(fake_b),
            "fake_A": fake_a,
            "rec_B": g_a(fake_a),
            "idt_A": g_a(real_b),
            "idt_B": g_b(real_a),
            "D_A_fake_B": d_a(fake_b),
            "D_B_fake_A": d_b(fake_a),
            "D_A_real_B": d_a(real_b),
            "D_B_real_A": d_b(real_a),
        }
    save_file({k: v.detach().cpu().contiguous() for k, v in forward.items()},
              os.path.join(args.out, "forward.safetensors"))

    opt_g = torch.optim.Adam(list(g_a.parameters()) + list(g_b.parameters()), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(list(d_a.parameters()) + list(d_b.parameters()), lr=2e-4, betas=(0.5, 0.999))
    mse, l1 = nn.MSELoss(), nn.L1Loss()

    def gan_loss(prediction, target_is_real):
        target = torch.tensor(1.0 if target_is_real else 0.0, device=prediction.device)
        return mse(prediction, target.expand_as(prediction))

    def set_requires_grad(group, flag):
        for net in group:
            for p in net.parameters():
                p.requires_grad = flag

    losses, grads = {}, {}
    for step in (1, 2):
        fake_b = g_a(real_a)
        rec_a = g_b(fake_b)
        fake_a = g_b(real_b)
        rec_b = g_a(fake_a)
        set_requires_grad([d_a, d_b], False)
        opt_g.zero_grad()
        loss = {
            "idt_A": l1(g_a(real_b), real_b) * 10 * 0.5,
            "idt_B": l1(g_b(real_a), real_a) * 10 * 0.5,
            "G_A": gan_loss(d_a(fake_b), True),
            "G_B": gan_loss(d_b(fake_a), True),
            "cycle_A": l1(rec_a, real_a) * 10,
            "cycle_B": l1(rec_b, real_b) * 10,
        }
        loss["G"] = loss["G_A"] + loss["G_B"] + loss["cycle_A"] + loss["cycle_B"] + loss["idt_A"] + loss["idt_B"]
        loss["G"].backward()
        if step == 1:
            for name in ("G_A", "G_B"):
                for key, p in nets[name].named_parameters():
                    grads[f"{name}.{key}"] = p.grad.detach().cpu().clone()
        opt_g.step()
        set_requires_grad([d_a, d_b], True)
        opt_d.zero_grad()
        for name, d, real, fake in (("D_A", d_a, real_b, fake_b), ("D_B", d_b, real_a, fake_a)):
            loss[name] = (gan_loss(d(real), True) + gan_loss(d(fake.detach()), False)) * 0.5
            loss[name].backward()
        if step == 1:
            for name in ("D_A", "D_B"):
                for key, p in nets[name].named_parameters():
                    grads[f"{name}.{key}"] = p.grad.detach().cpu().clone()
        opt_d.step()
        for term in TERMS:
            losses[f"step{step}.loss_{term}"] = loss[term].detach().reshape(1).cpu()
    save_file(losses, os.path.join(args.out, "losses.safetensors"))
    save_file({k: v for k, v in grads.items() if k.startswith("G")}, os.path.join(args.out, "grads_G.safetensors"))
    save_file({k: v for k, v in grads.items() if k.startswith("D")}, os.path.join(args.out, "grads_D.safetensors"))
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    print(f"reference written to {args.out} ({name}, TF32 {'on' if tf32 else 'off'}, torch {torch.__version__})")


if __name__ == "__main__":
    main()
