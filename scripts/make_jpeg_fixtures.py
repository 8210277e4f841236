#!/usr/bin/env python3
"""Fixtures for tests/jpeg.rs: small JPEGs of every kind and the pixels PIL decodes them to.

    pip install pillow simplejpeg numpy && python3 scripts/make_jpeg_fixtures.py

PIL (libjpeg-turbo inside, default settings: accurate integer IDCT, fancy upsampling) is the
decoder of the official pipeline. For each file this writes to tests/fixtures/jpeg/:

- `<name>.jpg`: the JPEG, written by PIL (simplejpeg, which is libjpeg-turbo's TurboJPEG, for
  the 4:4:0 and 4:1:1 samplings PIL cannot write);
- `<name>.png`: `Image.open(<name>.jpg)` as PIL decodes it (mode RGB or L), saved
  losslessly; none for `cmyk.jpg`, a kind the crate's decoder leaves to the `image` crate.

`--hashes DATASET...` instead prints, for every JPEG under the dataset folders given, its path
relative to the dataset's parent and the first 16 hex digits of the SHA-256 of PIL's RGB
pixels (`Image.open(f).convert("RGB")`, row-major bytes). tests/data.rs checks the crate's
decoder against such a list: tests/fixtures/jpeg/pil_rgb_sha256.txt, from
`--hashes ../shared/data/horse2zebra ../shared/data/facades`.
"""
import hashlib
import io
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "jpeg")


def picture(width, height, seed):
    """Gradients, hard edges, saturated corners and noise: every decoder path gets work."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 127.5 + 127.5 * np.sin(x / 3.1 + seed)
    g = 255.0 * (y / max(height - 1, 1))
    b = np.where((x // 6 + y // 5) % 2 == 0, 250.0, 5.0)
    image = np.stack([r, g, b], axis=-1) + rng.normal(0, 12, size=(height, width, 3))
    image[: height // 4, : width // 4] = [255, 0, 0]
    image[-(height // 4):, -(width // 4):] = [0, 0, 255]
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), "RGB")


def pil_jpeg(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def turbo_jpeg(image, subsampling):
    import simplejpeg

    return simplejpeg.encode_jpeg(
        np.ascontiguousarray(np.asarray(image)), quality=85, colorspace="RGB",
        colorsubsampling=subsampling,
    )


def fixtures():
    main = picture(45, 37, 0)
    grey = picture(29, 21, 1).convert("L")
    return {
        "baseline_444": pil_jpeg(main, quality=90, subsampling=0),
        "baseline_422": pil_jpeg(main, quality=90, subsampling=1),
        "baseline_420": pil_jpeg(main, quality=90, subsampling=2),
        "baseline_420_q100": pil_jpeg(main, quality=100, subsampling=2),
        "baseline_420_q10": pil_jpeg(main, quality=10, subsampling=2),
        "optimized_420": pil_jpeg(main, quality=75, subsampling=2, optimize=True),
        "restart_blocks_420": pil_jpeg(main, quality=85, subsampling=2, restart_marker_blocks=2),
        "restart_rows_444": pil_jpeg(main, quality=85, subsampling=0, restart_marker_rows=1),
        "progressive_420": pil_jpeg(main, quality=90, subsampling=2, progressive=True),
        "progressive_422": pil_jpeg(main, quality=80, subsampling=1, progressive=True),
        "progressive_444": pil_jpeg(main, quality=95, subsampling=0, progressive=True),
        "progressive_restart_420": pil_jpeg(
            main, quality=85, subsampling=2, progressive=True, restart_marker_blocks=3
        ),
        "grey": pil_jpeg(grey, quality=90),
        "grey_progressive": pil_jpeg(grey, quality=90, progressive=True),
        "rgb_adobe": pil_jpeg(main, quality=90, keep_rgb=True),
        "tiny_420": pil_jpeg(picture(3, 5, 2), quality=90, subsampling=2),
        "narrow_422": pil_jpeg(picture(2, 9, 3), quality=90, subsampling=1),
        "turbo_440": turbo_jpeg(main, "440"),
        "turbo_411": turbo_jpeg(main, "411"),
        "cmyk": pil_jpeg(main.convert("CMYK"), quality=90),
    }


def write_fixtures():
    os.makedirs(OUT, exist_ok=True)
    for name, data in fixtures().items():
        path = os.path.join(OUT, name + ".jpg")
        with open(path, "wb") as f:
            f.write(data)
        decoded = Image.open(path)
        decoded.load()
        if decoded.mode != "CMYK":
            decoded.save(os.path.join(OUT, name + ".png"))
        print(f"{name}: {decoded.mode} {decoded.size}, {len(data)} bytes, "
              f"sampling {[layer[1:3] for layer in getattr(decoded, 'layer', [])]}, "
              f"progressive {bool(decoded.info.get('progressive'))}")


def print_hashes(folders):
    for folder in folders:
        parent = os.path.dirname(os.path.abspath(folder))
        for root, folders, files in sorted(os.walk(folder)):
            folders.sort()
            for name in sorted(files):
                if not name.lower().endswith((".jpg", ".jpeg")):
                    continue
                path = os.path.join(root, name)
                pixels = np.asarray(Image.open(path).convert("RGB")).tobytes()
                relative = os.path.relpath(path, parent)
                print(f"{relative} {hashlib.sha256(pixels).hexdigest()[:16]}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--hashes":
        print_hashes(sys.argv[2:])
    else:
        write_fixtures()
