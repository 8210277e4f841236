#!/usr/bin/env python3
"""Fixtures for tests/cut.rs from the official CUT code (taesungp/contrastive-unpaired-translation,
run on the CPU): PatchSampleF and PatchNCELoss on fixed features and patch ids, and the
anti-aliased Downsample / Upsample layers.

    git clone https://github.com/taesungp/contrastive-unpaired-translation
    pip install torch numpy safetensors packaging
    python3 scripts/make_cut_fixtures.py --cut_repo contrastive-unpaired-translation

The official modules are imported from the clone as they are (`models.networks.PatchSampleF`,
`models.patchnce.PatchNCELoss`); nothing is re-declared. Writes
tests/fixtures/cut/patch_nce.safetensors (float32; ids stored as float32, exact):

- `feat_k.{j}`, `feat_q.{j}`: three feature maps of a batch of 2 ([2,3,10,10], [2,8,9,7],
  [2,16,3,4]): the keys (features of the input) and the queries (of the output);
- `ids.{j}`: the patch ids, `np.random.RandomState(0).permutation(H*W)[:min(16, H*W)]` per map
  (the last map has 12 positions, fewer than the 16 asked for);
- `mlp_{j}.0.weight`, `mlp_{j}.0.bias`, `mlp_{j}.2.weight`, `mlp_{j}.2.bias`: netF's MLPs
  (`mlp_sample`, netF_nc 32), as `create_mlp` makes them (xavier_normal, gain 0.02), then
  their biases set to a formula (the official init leaves them 0, which would test nothing);
- `k.{j}`, `q.{j}`: netF's outputs for the keys and the queries with those ids;
- `sample_k.{j}`: the same with `netF = sample` (no MLP: gather and L2 normalisation);
- `loss.{j}`: PatchNCELoss per row (batch_size 2, negatives from the same image, T 0.07);
- `loss_all_negatives.{j}`: the same with nce_includes_all_negatives_from_minibatch;
- `total`: sum over maps of the mean loss (CUT's NCE with lambda_NCE 1, before dividing by the
  number of layers), and its gradients `grad_feat_q.{j}` and `grad_mlp_{j}.{0,2}.{weight,bias}`.

and tests/fixtures/cut/antialias.safetensors: `down_in.{i}` / `down_out.{i}` through
`Downsample(C)` (filter 3, stride 2, reflect) and `up_in.{i}` / `up_out.{i}` through
`Upsample(C)` (filter 4, stride 2, replicate), on maps of even and odd sides; and
`d{n}_in` / `d{n}_out`: the official anti-aliased `NLayerDiscriminator(3, ndf=8, n_layers=n)`
(instance norm, no affine) for n = 3 and 1 on a [1, 3, 64, 64] image, whose state dicts
(official keys, the blur filters included) are tests/fixtures/cut/nlayer_antialias_{n}.safetensors;
weights N(0, 0.1), biases from a formula, so that every layer matters; and `g_{variant}_in` /
`g_{variant}_out`: the official `ResnetGenerator(3, 3, ngf=4, n_blocks=9)` (instance norm, no
dropout, reflect padding) on a [1, 3, 32, 32] image, variant `aa` anti-aliased both ways (CUT's
default) and `aa_down` with `--no_antialias_up`, whose state dicts are
tests/fixtures/cut/resnet_{variant}.safetensors (weights N(0, 0.05), formula biases); with
`g_{variant}_taps.{k}`, the features of the official `forward(x, TAPS[variant],
encode_only=True)` for CUT's layers 0, 4, 8, 12, 16 and more (see TAPS), in order.

and tests/fixtures/cut/nce.safetensors: the official `CUTModel.calculate_NCE_loss` (called on
an object holding the official netG — the `aa` generator above —, a netF, PatchNCELosses and
the options) for `src` [1, 3, 32, 32] and `tgt` (src + 0.1 · noise) or `tgt_flipped` (the same flipped),
num_patches 256 (the 8×8 taps give all 64),
nce_layers 0,4,8,12,16: `nce` (lambda_NCE 1, no flip) and `nce_flipped` (lambda_NCE 10, the
query features flipped back, as FastCUT's flip equivariance does; `_wrong_flip`: the same
with the other flip decision, which a port must not match), the patch ids numpy drew
(`ids.{j}`, numpy seed 7 before each call) and netF's weights (`mlp_{j}...`, netF_nc 32,
xavier with gain 1 so that the loss depends on the features).
"""
import argparse
import os
import sys
import types

import numpy as np
import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "cut")
SHAPES = [(2, 3, 10, 10), (2, 8, 9, 7), (2, 16, 3, 4)]
NUM_PATCHES = 16
NC = 32
# CUT's nce_layers, then indices that land on a ReLU, a blur, an up stage and the end (the
# tanh: 31 anti-aliased both ways, 29 with transposed up convs). Not a norm's index: the
# official ReLUs are in place, so the feature kept for a norm is overwritten by its ReLU.
TAPS = {
    "aa": [0, 3, 4, 7, 8, 11, 12, 16, 21, 22, 25, 29, 31],
    "aa_down": [0, 4, 8, 12, 16, 21, 24, 27, 29],
}


def formula_biases(net, wave, scale):
    """Every bias of `net` set to `scale * wave(0, 1, 2, ...)`: the official inits leave biases
    at 0, which would test nothing."""
    with torch.no_grad():
        for name, param in net.named_parameters():
            if name.endswith("bias"):
                param.copy_(scale * wave(torch.arange(param.numel(), dtype=torch.float32)))


def save_state_dict(net, name):
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, os.path.join(OUT, name))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cut_repo", required=True, help="a clone of the official CUT code")
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(args.cut_repo))
    from models.networks import PatchSampleF
    from models.patchnce import PatchNCELoss

    torch.manual_seed(0)
    torch.set_num_threads(1)
    feat_k = [torch.randn(shape) for shape in SHAPES]
    feat_q = [torch.randn(shape).requires_grad_(True) for shape in SHAPES]
    rng = np.random.RandomState(0)
    ids = [rng.permutation(h * w)[: min(NUM_PATCHES, h * w)] for (_, _, h, w) in SHAPES]

    net_f = PatchSampleF(use_mlp=True, init_type="xavier", init_gain=0.02, nc=NC)
    net_f.create_mlp(feat_k)
    formula_biases(net_f, torch.sin, 0.01)
    k, returned_ids = net_f(feat_k, NUM_PATCHES, ids)
    q, _ = net_f(feat_q, NUM_PATCHES, returned_ids)
    sample_k, _ = PatchSampleF(use_mlp=False, nc=NC)(feat_k, NUM_PATCHES, ids)

    opt = types.SimpleNamespace(
        nce_includes_all_negatives_from_minibatch=False, batch_size=2, nce_T=0.07)
    opt_all = types.SimpleNamespace(
        nce_includes_all_negatives_from_minibatch=True, batch_size=2, nce_T=0.07)
    losses = [PatchNCELoss(opt)(q_j, k_j) for q_j, k_j in zip(q, k)]
    losses_all = [PatchNCELoss(opt_all)(q_j, k_j) for q_j, k_j in zip(q, k)]
    total = sum(loss.mean() for loss in losses)
    total.backward()

    tensors = {"total": total.detach().reshape(1)}
    for j in range(len(SHAPES)):
        tensors[f"feat_k.{j}"] = feat_k[j]
        tensors[f"feat_q.{j}"] = feat_q[j].detach()
        tensors[f"ids.{j}"] = torch.tensor(ids[j], dtype=torch.float32)
        tensors[f"k.{j}"] = k[j].detach()
        tensors[f"q.{j}"] = q[j].detach()
        tensors[f"sample_k.{j}"] = sample_k[j].detach()
        tensors[f"loss.{j}"] = losses[j].detach()
        tensors[f"loss_all_negatives.{j}"] = losses_all[j].detach()
        tensors[f"grad_feat_q.{j}"] = feat_q[j].grad
    for name, param in net_f.named_parameters():
        tensors[name] = param.detach().clone()
        tensors[f"grad_{name}"] = param.grad.clone()
    os.makedirs(OUT, exist_ok=True)
    save_file({name: t.contiguous() for name, t in tensors.items()},
              os.path.join(OUT, "patch_nce.safetensors"))
    print("total", total.item(), "rows", [tuple(loss.shape) for loss in losses])

    from models.networks import Downsample, Upsample

    resampled = {}
    for i, shape in enumerate([(2, 3, 8, 8), (1, 4, 9, 7), (1, 2, 255, 5)]):
        x = torch.randn(shape)
        resampled[f"down_in.{i}"] = x
        resampled[f"down_out.{i}"] = Downsample(shape[1])(x)
    for i, shape in enumerate([(2, 3, 4, 4), (1, 4, 5, 3), (1, 2, 1, 6)]):
        x = torch.randn(shape)
        resampled[f"up_in.{i}"] = x
        resampled[f"up_out.{i}"] = Upsample(shape[1])(x)
    import functools

    from models.networks import NLayerDiscriminator, init_weights

    norm = functools.partial(torch.nn.InstanceNorm2d, affine=False, track_running_stats=False)
    for n_layers in (3, 1):
        net_d = NLayerDiscriminator(3, ndf=8, n_layers=n_layers, norm_layer=norm)
        init_weights(net_d, "normal", 0.1)
        formula_biases(net_d, torch.cos, 0.05)
        x = torch.randn(1, 3, 64, 64)
        resampled[f"d{n_layers}_in"] = x
        with torch.no_grad():
            resampled[f"d{n_layers}_out"] = net_d(x)
        save_state_dict(net_d, f"nlayer_antialias_{n_layers}.safetensors")
    from models.networks import ResnetGenerator

    for variant, no_antialias_up in (("aa", False), ("aa_down", True)):
        net_g = ResnetGenerator(3, 3, ngf=4, norm_layer=norm, use_dropout=False, n_blocks=9,
                                no_antialias=False, no_antialias_up=no_antialias_up)
        init_weights(net_g, "normal", 0.05)
        formula_biases(net_g, torch.sin, 0.05)
        x = torch.randn(1, 3, 32, 32)
        resampled[f"g_{variant}_in"] = x
        with torch.no_grad():
            resampled[f"g_{variant}_out"] = net_g(x)
            taps = net_g(x, list(TAPS[variant]), encode_only=True)
        for k, tap in enumerate(taps):
            resampled[f"g_{variant}_taps.{k}"] = tap.clone()
        save_state_dict(net_g, f"resnet_{variant}.safetensors")
    save_file({name: t.contiguous() for name, t in resampled.items()},
              os.path.join(OUT, "antialias.safetensors"))

    from models.cut_model import CUTModel

    net_g = ResnetGenerator(3, 3, ngf=4, norm_layer=norm, use_dropout=False, n_blocks=9)
    net_g.load_state_dict(load_file(os.path.join(OUT, "resnet_aa.safetensors")))
    layers = [0, 4, 8, 12, 16]
    src, tgt = torch.randn(1, 3, 32, 32), torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        feats = net_g(src, layers, encode_only=True)
    # Xavier with gain 1 rather than CUT's 0.02: with 0.02 the biases dominate the MLPs'
    # outputs, every patch looks alike and the loss hardly depends on the features.
    net_f = PatchSampleF(use_mlp=True, init_type="xavier", init_gain=1.0, nc=NC)
    net_f.create_mlp(feats)
    formula_biases(net_f, torch.cos, 0.01)
    # Outputs close to the source (flipped for the flipped case, as FastCUT's G sees a
    # flipped input), so that the loss is low and a wrong flip or patch shows.
    tgt = src + 0.1 * tgt
    tgt_flipped = torch.flip(tgt, [3])
    nce = {"src": src, "tgt": tgt, "tgt_flipped": tgt_flipped}
    for key, lambda_nce, flipped in (("nce", 1.0, False), ("nce_flipped", 10.0, True)):
        output = tgt_flipped if flipped else tgt
        for suffix, decision in (("", flipped), ("_wrong_flip", not flipped)):
            opt = types.SimpleNamespace(
                nce_includes_all_negatives_from_minibatch=False, batch_size=1, nce_T=0.07,
                num_patches=256, lambda_NCE=lambda_nce, flip_equivariance=True)
            model = types.SimpleNamespace(
                netG=net_g, netF=net_f, opt=opt, nce_layers=layers,
                flipped_for_equivariance=decision,
                criterionNCE=[PatchNCELoss(opt) for _ in layers])
            np.random.seed(7)
            with torch.no_grad():
                loss = CUTModel.calculate_NCE_loss(model, src, output)
            nce[key + suffix] = loss.reshape(1)
    np.random.seed(7)
    for j, feat in enumerate(feats):
        positions = feat.shape[2] * feat.shape[3]
        ids_j = np.random.permutation(positions)[: min(256, positions)]
        nce[f"ids.{j}"] = torch.tensor(ids_j, dtype=torch.float32)
    for name, param in net_f.named_parameters():
        nce[name] = param.detach().clone()
    save_file({name: t.contiguous() for name, t in nce.items()}, os.path.join(OUT, "nce.safetensors"))
    print({k: float(v) for k, v in nce.items() if k.startswith("nce")})
    print("this PyTorch's instance_norm backward is wrong for non-contiguous gradients:",
          instance_norm_backward_is_wrong())
    with_contiguous_instance_norm_gradients()
    for mode in STEP_MODES:
        make_steps(mode)


class ContiguousGrad(torch.autograd.Function):
    """Identity whose backward makes the incoming gradient contiguous."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad.contiguous()


def instance_norm_backward_is_wrong():
    """Whether this PyTorch's CPU `instance_norm` backward mishandles a non-contiguous incoming
    gradient (found with PyTorch 2.15.0: the gradient is wrong, batch_norm's is right). CUT
    hits it: netF's `permute(0, 2, 3, 1)` sends permuted gradients back into the generator's
    taps, and at a residual block's output they reach the block's last InstanceNorm directly.
    Checked against a central difference in float64."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 4, 8, 8, dtype=torch.float64, generator=gen, requires_grad=True)
    weights = torch.randn(1, 8, 8, 4, dtype=torch.float64, generator=gen)

    def loss(x):
        return (torch.nn.functional.instance_norm(x).permute(0, 2, 3, 1) * weights).sum()

    grad, = torch.autograd.grad(loss(x), x)
    step = torch.zeros_like(x)
    step[0, 0, 0, 0] = 1e-6
    with torch.no_grad():
        central = (loss(x + step) - loss(x - step)) / 2e-6
    return abs(grad[0, 0, 0, 0].item() - central.item()) > 1e-6


def with_contiguous_instance_norm_gradients():
    """Makes every `F.instance_norm` (the official InstanceNorm2d calls it) receive contiguous
    gradients, so that the goldens hold the true gradients whatever this PyTorch does with
    non-contiguous ones (see `instance_norm_backward_is_wrong`). Forward values are unchanged."""
    official = torch.nn.functional.instance_norm

    def instance_norm(*args, **kwargs):
        return ContiguousGrad.apply(official(*args, **kwargs))

    torch.nn.functional.instance_norm = instance_norm
    assert not instance_norm_backward_is_wrong()


STEP_MODES = {
    # mode: (nce_idt, lambda_NCE, flip_equivariance), as CUTModel's set_defaults.
    "CUT": (True, 1.0, False),
    "FastCUT": (False, 10.0, True),
}


def official_cut_options(mode, **overrides):
    """The options `CUTModel(opt)` reads, as the official `--model cut --CUT_mode <mode>`
    defaults for training on the CPU (xavier 0.02, anti-aliased G and D, resnet_9blocks,
    netF mlp_sample 256, 256 patches at 0,4,8,12,16, LSGAN, Adam 2e-4 (0.5, 0.999)), with
    `overrides` applied."""
    nce_idt, lambda_nce, flip = STEP_MODES[mode]
    options = dict(
        gpu_ids=[], isTrain=True, checkpoints_dir="/tmp", name="cut_fixture",
        preprocess="resize_and_crop", direction="AtoB", CUT_mode=mode,
        input_nc=3, output_nc=3, ngf=64, ndf=64, netG="resnet_9blocks", netD="basic",
        n_layers_D=3, normG="instance", normD="instance", no_dropout=True,
        init_type="xavier", init_gain=0.02, no_antialias=False, no_antialias_up=False,
        netF="mlp_sample", netF_nc=256, nce_T=0.07, num_patches=256, nce_layers="0,4,8,12,16",
        nce_includes_all_negatives_from_minibatch=False, gan_mode="lsgan", lr=2e-4,
        beta1=0.5, beta2=0.999, batch_size=1, lambda_GAN=1.0, lambda_NCE=lambda_nce,
        nce_idt=nce_idt, flip_equivariance=flip)
    options.update(overrides)
    return types.SimpleNamespace(**options)


def make_steps(mode):
    """Two official `CUTModel.optimize_parameters()` steps, on the CPU, of a small CUT or
    FastCUT model (ngf 8, ndf 4, resnet_6blocks, anti-aliased G and D, netF_nc 32, CUT's
    init: xavier with gain 0.02 and zero biases, netF made by `data_dependent_initialize`),
    batch 1 at 32×32, with contiguous gradients into every InstanceNorm (PyTorch 2.15's CPU
    instance_norm backward is wrong for the permuted gradients netF sends back; see
    `instance_norm_backward_is_wrong`). numpy is seeded 1 before step 1 and 0 before step 2, so FastCUT flips
    at step 1 and not at step 2. Writes tests/fixtures/cut/steps_{mode}.safetensors:
    `init.{G,D,F}.<key>` (the weights before step 1), `real_A.{s}`, `real_B.{s}`,
    `losses.{s}` (G_GAN, D_real, D_fake, G, NCE, NCE_Y; NCE_Y 0 for FastCUT), `flipped.{s}`,
    `ids.{s}.{j}` and `idt_ids.{s}.{j}` (the patches numpy drew), `grad.1.{G,D,F}.<key>` (the
    gradients of step 1) and `after.2.{G,D,F}.<key>` (the weights after step 2), s = 1, 2."""
    from models.cut_model import CUTModel

    opt = official_cut_options(
        mode, ngf=8, ndf=4, netG="resnet_6blocks", netF_nc=32, batch_size=1)
    nce_idt = opt.nce_idt
    torch.manual_seed(3)
    np.random.seed(3)
    model = CUTModel(opt)
    batches = [
        {"A": torch.rand(1, 3, 32, 32) * 2 - 1, "B": torch.rand(1, 3, 32, 32) * 2 - 1,
         "A_paths": ["a"], "B_paths": ["b"]}
        for _ in range(2)
    ]
    model.data_dependent_initialize(batches[0])
    nets = {"G": model.netG, "D": model.netD, "F": model.netF}
    out = {}
    for name, net in nets.items():
        for key, value in net.state_dict().items():
            out[f"init.{name}.{key}"] = value.detach().clone()

    drawn = []
    official_forward = model.netF.forward

    def recording_forward(feats, num_patches=64, patch_ids=None):
        feats_out, ids = official_forward(feats, num_patches, patch_ids)
        if patch_ids is None:
            drawn.append([torch.as_tensor(i).clone() for i in ids])
        return feats_out, ids

    model.netF.forward = recording_forward
    for step, seed in ((1, 1), (2, 0)):
        batch = batches[step - 1]
        drawn.clear()
        np.random.seed(seed)
        model.set_input(batch)
        model.optimize_parameters()
        out[f"real_A.{step}"] = batch["A"]
        out[f"real_B.{step}"] = batch["B"]
        nce_y = model.loss_NCE_Y if nce_idt else torch.zeros(())
        out[f"losses.{step}"] = torch.stack([
            torch.as_tensor(v).detach().float().reshape(())
            for v in (model.loss_G_GAN, model.loss_D_real, model.loss_D_fake, model.loss_G,
                      model.loss_NCE, nce_y)])
        out[f"flipped.{step}"] = torch.tensor(
            [float(getattr(model, "flipped_for_equivariance", False))])
        assert len(drawn) == (2 if nce_idt else 1), len(drawn)
        for prefix, ids in zip(("ids", "idt_ids"), drawn):
            for j, ids_j in enumerate(ids):
                out[f"{prefix}.{step}.{j}"] = ids_j.float()
        if step == 1:
            for name, net in nets.items():
                for key, param in net.named_parameters():
                    out[f"grad.1.{name}.{key}"] = param.grad.detach().clone()
    for name, net in nets.items():
        for key, value in net.state_dict().items():
            out[f"after.2.{name}.{key}"] = value.detach().clone()
    save_file({k: v.contiguous() for k, v in out.items()},
              os.path.join(OUT, f"steps_{mode.lower()}.safetensors"))
    print(mode, {step: out[f"losses.{step}"].tolist() for step in (1, 2)},
          "flipped", [out[f"flipped.{s}"].item() for s in (1, 2)])


if __name__ == "__main__":
    main()
