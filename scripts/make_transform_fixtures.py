#!/usr/bin/env python3
"""Reference outputs of the official transforms (PIL), for tests/data.rs.

Writes tests/fixtures/transform/:
  input.png            a deterministic 64x48 RGB test image (smooth shapes + fine texture)
  bicubic_286.png      input resized to 286x286 with PIL BICUBIC (the official load_size)
  bicubic_37x29.png    input shrunk to 37x29 with PIL BICUBIC
  grey.png             input converted with PIL convert("L")

Run: pip install pillow && python3 scripts/make_transform_fixtures.py
"""
import math
import os

from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "transform")
os.makedirs(OUT, exist_ok=True)

W, H = 64, 48
img = Image.new("RGB", (W, H))
px = img.load()
for y in range(H):
    for x in range(W):
        r = int(127.5 + 127.5 * math.sin(x / 5.0) * math.cos(y / 7.0))
        g = int(255 * ((x * y) % 97) / 96)
        b = 255 if (x - 30) ** 2 + (y - 20) ** 2 < 150 else int(4 * x)
        px[x, y] = (r, g, min(b, 255))
img.save(os.path.join(OUT, "input.png"))
img.resize((286, 286), Image.BICUBIC).save(os.path.join(OUT, "bicubic_286.png"))
img.resize((37, 29), Image.BICUBIC).save(os.path.join(OUT, "bicubic_37x29.png"))
img.convert("L").save(os.path.join(OUT, "grey.png"))
print("wrote", OUT)
