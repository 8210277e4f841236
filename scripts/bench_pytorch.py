#!/usr/bin/env python3
"""The benchmark items of benches/items.rs in PyTorch (the official networks, CPU, 2 threads).

    python3 scripts/bench_pytorch.py --item generator_forward_256 --repeats 5
    python3 scripts/bench_pytorch.py --flops generator_forward_256

Prints one JSON line per run, with the same fields as `examples/bench_item.rs`. Items:
generator_forward_<size> (resnet_9blocks ngf 64, instance norm, no dropout, no_grad),
discriminator_forward_<size> (basic D ndf 64), train_step_32 (the README preset: resnet_6blocks,
ngf = ndf = 16, n_layers D with n_layers_D 1, lr 5e-4), translate_folder_<size> (the official test.py on a folder of 8
JPEGs), train_step_<size> (the official
CycleGANModel.optimize_parameters: LSGAN, lambda 10/10, identity 0.5, pool 50, two Adams,
lr 2e-4, betas (0.5, 0.999)), train_step_b2_<size> (the same at batch 2), decode_folder_<size>
and decode_folder_image_crate_<size> (PIL's decode of translate_folder's JPEGs, the reference
of the crate's decoder and of the image crate's), cut_step_<size> and fastcut_step_<size> (the
official CUTModel.optimize_parameters with its defaults; needs --cut_repo).
`--device cuda` runs the networks on the GPU with `cudnn.benchmark` on, as the official
BaseModel sets it; each iteration ends by reading a value back, which waits for the GPU. `--flops` counts the floating-point operations of one
iteration with torch.utils.flop_counter (convolutions and matrix products, 2 per
multiply-add; backward included for the training step).

Run: pip install torch && python3 scripts/bench_pytorch.py --item ...
"""
import argparse
import json
import os
import sys
import random
import resource
import time

import torch

from torch_cycle_gan import CycleGAN
from torch_networks import NLayerDiscriminator, ResnetGenerator, get_norm_layer


def status_mib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


# Where the networks and inputs live: "cpu" (default) or "cuda" (--device).
DEVICE = torch.device("cpu")
# A clone of the official CUT code (--cut_repo).
CUT_REPO = None


def train_step_fn(size, ngf=64, ndf=64, n_blocks=9, lr=2e-4, batch=1, n_layers_d=3):
    norm = get_norm_layer("instance")
    g_a = ResnetGenerator(3, 3, ngf, norm, False, n_blocks).to(DEVICE)
    g_b = ResnetGenerator(3, 3, ngf, norm, False, n_blocks).to(DEVICE)
    d_a = NLayerDiscriminator(3, ndf, n_layers_d, norm).to(DEVICE)
    d_b = NLayerDiscriminator(3, ndf, n_layers_d, norm).to(DEVICE)
    model = CycleGAN(g_a, g_b, d_a, d_b, lr)
    real_a = (torch.rand(batch, 3, size, size) * 2 - 1).to(DEVICE)
    real_b = (torch.rand(batch, 3, size, size) * 2 - 1).to(DEVICE)

    def step():
        return model.optimize_parameters(real_a, real_b)["g"].item()

    return step


FOLDER_IMAGES = 8


def bench_folder(size):
    """The folder of JPEGs of translate_folder_<size> and decode_folder_<size>:
    $CYCLEGAN_BENCH_FOLDER (read, never written), else the one bench_item writes in the
    temporary folder (benches/items.rs); PIL writes the same kind of pictures there if
    bench_item has not run yet."""
    import tempfile

    import numpy as np
    from PIL import Image

    if os.environ.get("CYCLEGAN_BENCH_FOLDER"):
        return os.environ["CYCLEGAN_BENCH_FOLDER"]
    folder = os.path.join(tempfile.gettempdir(), f"cyclegan-burn-bench-{size}")
    os.makedirs(folder, exist_ok=True)
    for n in range(FOLDER_IMAGES):
        path = os.path.join(folder, f"{n}.jpg")
        if os.path.exists(path):
            continue
        y, x = np.mgrid[0:size, 0:size].astype(np.float32)
        u, v = x / size, y / size
        ring = np.sin(np.sqrt((u - 0.5) ** 2 + (v - 0.5) ** 2) * (8.0 + n))
        stripe = np.where(((x // 16 + y // 16 + n) % 2) == 0, 40.0, 0.0)
        picture = np.stack([128 + 100 * ring, 200 * u + stripe, 60 + 150 * v], -1)
        Image.fromarray(picture.astype(np.uint8)).save(path, quality=90)
    return folder


def translate_folder_fn(size):
    """The official test.py on a folder (--model test --no_dropout, the default resnet_9blocks
    generator): each image opened with PIL, the test transform (resize to load_size = 256,
    crop 256, to tensor, normalise), the generator, and real and fake written as PNGs with
    util.tensor2im + save_image, as test.py's save_images does."""
    import numpy as np
    import torchvision  # noqa: F401  (the official transform; installed with torch's extras)
    from PIL import Image
    import torchvision.transforms as transforms

    folder = bench_folder(size)
    paths = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".jpg"))
    import tempfile

    # In the temporary folder, never beside the images (which may be a dataset).
    results = os.path.join(tempfile.gettempdir(), f"cyclegan-burn-bench-{size}-results-pytorch")
    os.makedirs(results, exist_ok=True)
    transform = transforms.Compose([
        transforms.Resize([256, 256], transforms.InterpolationMode.BICUBIC),
        transforms.ToTensor(),
        transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    ])
    net = ResnetGenerator(3, 3, 64, get_norm_layer("instance"), False, 9).eval().to(DEVICE)

    def tensor2im(tensor):
        array = tensor[0].cpu().float().numpy()
        return ((np.transpose(array, (1, 2, 0)) + 1) / 2.0 * 255.0).astype(np.uint8)

    def run():
        for path in paths:
            image = Image.open(path).convert("RGB")
            real = transform(image).unsqueeze(0).to(DEVICE)
            with torch.no_grad():
                fake = net(real)
            stem = os.path.splitext(os.path.basename(path))[0]
            Image.fromarray(tensor2im(real)).save(os.path.join(results, f"{stem}_real.png"))
            Image.fromarray(tensor2im(fake)).save(os.path.join(results, f"{stem}_fake.png"))

    return run


def decode_folder_fn(size):
    """PIL's decode of every JPEG of the translate_folder_<size> folder, as the official
    UnalignedDataset opens images: Image.open(path).convert("RGB"). The reference of both
    decode_folder_<size> (the crate's decoder) and decode_folder_image_crate_<size>."""
    from PIL import Image

    folder = bench_folder(size)
    paths = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".jpg"))

    def run():
        for path in paths:
            Image.open(path).convert("RGB")

    return run


def cut_step_fn(size, mode):
    """One official `CUTModel.optimize_parameters()` (CUT or FastCUT, the official defaults:
    scripts/make_cut_fixtures.py's `official_cut_options`) at batch 1, after the official
    `data_dependent_initialize` on the same batch. Needs the official code: `--cut_repo` (a
    clone of taesungp/contrastive-unpaired-translation)."""
    if not CUT_REPO:
        raise SystemExit("cut_step_<size> and fastcut_step_<size> need --cut_repo")
    sys.path.insert(0, os.path.abspath(CUT_REPO))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_cut_fixtures import official_cut_options
    from models.cut_model import CUTModel

    opt = official_cut_options(mode, gpu_ids=[0] if DEVICE.type == "cuda" else [])
    model = CUTModel(opt)
    data = {"A": torch.rand(1, 3, size, size) * 2 - 1, "B": torch.rand(1, 3, size, size) * 2 - 1,
            "A_paths": ["a"], "B_paths": ["b"]}
    model.data_dependent_initialize(data)
    model.set_input(data)

    def step():
        model.optimize_parameters()
        return model.loss_G.item()

    return step


def fid_features_fn(batch):
    """pytorch-fid's InceptionV3 (formula weights: speed does not depend on them) on a batch
    of 256x256 images in [0, 1], resized to 299 inside the model as pytorch-fid does."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import pytorch_fid.inception as fid_inception
    from make_inception_fixtures import formula_state_dict

    fid_inception.load_state_dict_from_url = formula_state_dict
    model = fid_inception.InceptionV3([3]).eval().to(DEVICE)
    x = torch.rand(batch, 3, 256, 256).to(DEVICE)

    def forward():
        with torch.no_grad():
            return model(x)[0].sum().item()

    return forward


def prepare(item):
    kind, size = item.rsplit("_", 1)
    size = int(size)
    norm = get_norm_layer("instance")
    if item == "train_step_32":
        # The README's main command: the StripeShapes preset (examples/train.rs).
        return train_step_fn(32, ngf=16, ndf=16, n_blocks=6, lr=5e-4, n_layers_d=1)
    if kind == "generator_forward":
        net = ResnetGenerator(3, 3, 64, norm, False, 9)
    elif kind == "discriminator_forward":
        net = NLayerDiscriminator(3, 64, 3, norm)
    elif kind == "train_step":
        return train_step_fn(size)
    elif kind == "train_step_b2":
        return train_step_fn(size, batch=2)
    elif kind == "cut_step":
        return cut_step_fn(size, "CUT")
    elif kind == "fastcut_step":
        return cut_step_fn(size, "FastCUT")
    elif kind == "fid_features":
        return fid_features_fn(size)
    elif kind == "translate_folder":
        return translate_folder_fn(size)
    elif kind in ("decode_folder", "decode_folder_image_crate"):
        return decode_folder_fn(size)
    else:
        raise SystemExit(f"unknown item {item}")
    net = net.to(DEVICE)
    x = (torch.rand(1, 3, size, size) * 2 - 1).to(DEVICE)

    def forward():
        with torch.no_grad():
            return net(x).sum().item()

    return forward


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--item")
    parser.add_argument("--flops")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--cut_repo", help="the official CUT code, for cut_step / fastcut_step")
    args = parser.parse_args()
    global DEVICE, CUT_REPO
    CUT_REPO = args.cut_repo
    DEVICE = torch.device(args.device)
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    random.seed(0)
    if args.flops:
        from torch.utils.flop_counter import FlopCounterMode

        iteration = prepare(args.flops)
        counter = FlopCounterMode(display=False)
        with counter:
            iteration()
        print(json.dumps({"item": args.flops, "flops": counter.get_total_flops()}))
        return
    iteration = prepare(args.item)
    rss_before = status_mib("VmRSS")
    for _ in range(args.warmup):
        iteration()
    times = []
    for _ in range(max(args.repeats, 1)):
        start = time.perf_counter()
        iteration()
        times.append(time.perf_counter() - start)
    ordered = sorted(times)
    print(
        json.dumps(
            {
                "impl": f"pytorch {torch.__version__}",
                "item": args.item,
                "backend": (f"cuda, {torch.cuda.get_device_name()}" if args.device == "cuda"
                            else f"cpu, {torch.get_num_threads()} threads"),
                "median_s": ordered[len(ordered) // 2],
                "min_s": ordered[0],
                "times": [round(t, 5) for t in times],
                "rss_before_mib": rss_before,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                "peak_device_mib": (torch.cuda.max_memory_allocated() / 2**20
                                    if args.device == "cuda" else None),
            }
        )
    )


if __name__ == "__main__":
    main()
