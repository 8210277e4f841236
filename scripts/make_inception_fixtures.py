#!/usr/bin/env python3
"""Fixtures for tests/inception.rs: pytorch-fid's own InceptionV3 with weights from a formula
(no download), and the pool3 features it gives three small images of odd sizes.

    pip install torch torchvision pytorch-fid pillow numpy && python3 scripts/make_inception_fixtures.py

pytorch-fid's `fid_inception_v3()` fetches its weights from the network; here its
`load_state_dict_from_url` is replaced by a function that returns the state dict of the same
network filled by `formula` below, which tests/inception.rs computes the same way in Rust.
Everything else, the network, `InceptionV3.forward` (bilinear resize to 299 with
`align_corners=False`, scaling to [-1, 1]) and the image loading (`PIL ... convert('RGB')`,
`ToTensor`), is pytorch-fid's and torchvision's code.

Writes tests/fixtures/inception/: image0.png, image1.png, image2.png (37x53, 150x100,
301x299, random RGB) and features.npz (`image0` ... `image2`: float32 pool3 features, 2048).
"""
import math
import os

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image

import pytorch_fid.inception as fid_inception

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "inception")
MASK = np.uint64(0xFFFFFFFF)


def fnv1a(key):
    h = 0x811C9DC5
    for byte in key.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def uniform(key, n):
    """n values in [-0.5, 0.5) from the key's name: FNV-1a, then xorshift32, in uint32."""
    i = np.arange(n, dtype=np.uint64)
    x = (np.uint64(fnv1a(key)) ^ ((i * np.uint64(0x9E3779B1)) & MASK)) & MASK
    x ^= (x << np.uint64(13)) & MASK
    x ^= x >> np.uint64(17)
    x ^= (x << np.uint64(5)) & MASK
    return x.astype(np.float64) / 2.0**32 - 0.5


def formula(key, shape):
    u = uniform(key, int(np.prod(shape)))
    if key.endswith("conv.weight"):
        fan_in = int(np.prod(shape[1:]))
        values = u * math.sqrt(24.0 / fan_in)  # variance 2 / fan_in
    elif key.endswith("bn.weight"):
        values = 1.0 + 0.2 * u
    elif key.endswith("bn.bias") or key.endswith("bn.running_mean"):
        values = 0.1 * u
    elif key.endswith("bn.running_var"):
        values = 1.0 + 0.5 * u
    else:
        values = 0.01 * u
    return torch.from_numpy(values.astype(np.float32).reshape(shape))


def formula_state_dict(*_args, **_kwargs):
    network = fid_inception._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    # The FID blocks, as fid_inception_v3 builds them.
    network.Mixed_5b = fid_inception.FIDInceptionA(192, pool_features=32)
    network.Mixed_5c = fid_inception.FIDInceptionA(256, pool_features=64)
    network.Mixed_5d = fid_inception.FIDInceptionA(288, pool_features=64)
    network.Mixed_6b = fid_inception.FIDInceptionC(768, channels_7x7=128)
    network.Mixed_6c = fid_inception.FIDInceptionC(768, channels_7x7=160)
    network.Mixed_6d = fid_inception.FIDInceptionC(768, channels_7x7=160)
    network.Mixed_6e = fid_inception.FIDInceptionC(768, channels_7x7=192)
    network.Mixed_7b = fid_inception.FIDInceptionE_1(1280)
    network.Mixed_7c = fid_inception.FIDInceptionE_2(2048)
    return {
        key: formula(key, tuple(value.shape)) if value.is_floating_point() else value
        for key, value in network.state_dict().items()
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    fid_inception.load_state_dict_from_url = formula_state_dict
    model = fid_inception.InceptionV3([fid_inception.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
    rng = np.random.default_rng(299)
    features = {}
    for index, (h, w) in enumerate([(37, 53), (150, 100), (301, 299)]):
        path = os.path.join(OUT, f"image{index}.png")
        Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)).save(path)
        image = TF.to_tensor(Image.open(path).convert("RGB")).unsqueeze(0)
        with torch.no_grad():
            pool3 = model(image)[0].squeeze(3).squeeze(2)
        features[f"image{index}"] = pool3[0].numpy().astype(np.float32)
        print(path, pool3.shape, float(pool3.abs().max()), float(pool3.mean()))
    np.savez(os.path.join(OUT, "features.npz"), **features)


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()
