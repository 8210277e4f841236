#!/usr/bin/env python3
"""Reference values of the metrics, for tests/metrics.rs.

Writes tests/fixtures/metrics/: a.png and b.png (two 40x33 RGB images: b is a blurred, noisy,
shifted version of a), truth.png and pred.png (label maps in the CMP facade palette; pred has
off-palette colours and errors), and expected.json with scikit-image / numpy values:
  l1, psnr (data_range 255), ssim (structural_similarity(a, b, gaussian_weights=True,
  data_range=255, channel_axis=-1)), and the label scores (nearest-palette-colour snapping,
  then the pix2pix/CycleGAN "FCN score" formulas on the confusion matrix).

Run: pip install numpy scikit-image pillow && python3 scripts/make_metric_fixtures.py
"""
import json
import os

import numpy as np
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "metrics")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)

H, W = 33, 40
y, x = np.mgrid[0:H, 0:W]
a = np.stack([
    127 + 100 * np.sin(x / 4.0) * np.cos(y / 6.0),
    (x * 6 + y * 3) % 256,
    np.where((x - 20) ** 2 + (y - 15) ** 2 < 90, 230, 40),
], axis=-1)
a = np.clip(a, 0, 255).astype(np.uint8)
b = a.astype(np.float64)
b = (b + np.roll(b, 1, axis=1) + np.roll(b, 1, axis=0)) / 3 + rng.normal(0, 12, b.shape)
b = np.clip(np.round(b), 0, 255).astype(np.uint8)
Image.fromarray(a).save(os.path.join(OUT, "a.png"))
Image.fromarray(b).save(os.path.join(OUT, "b.png"))

palette = np.array([
    (0, 0, 170), (0, 0, 255), (0, 85, 255), (0, 170, 255), (0, 255, 255), (85, 255, 170),
    (170, 255, 85), (255, 255, 0), (255, 170, 0), (255, 85, 0), (255, 0, 0), (170, 0, 0)])
truth_ids = ((x // 7 + y // 5) % 9).astype(int)  # classes 0..8 present, 9..11 absent
pred_ids = truth_ids.copy()
flip = rng.random(truth_ids.shape) < 0.3
pred_ids[flip] = rng.integers(0, 11, flip.sum())  # may predict class 10, absent in truth
truth = palette[truth_ids].astype(np.uint8)
pred = palette[pred_ids].astype(np.int64) + rng.integers(-30, 31, (H, W, 3))  # off-palette
pred = np.clip(pred, 0, 255).astype(np.uint8)
Image.fromarray(truth).save(os.path.join(OUT, "truth.png"))
Image.fromarray(pred).save(os.path.join(OUT, "pred.png"))


def snap(img):
    d = ((img[:, :, None, :].astype(np.int64) - palette[None, None, :, :]) ** 2).sum(-1)
    return d.argmin(-1)


n = len(palette)
hist = np.bincount(n * snap(truth).ravel() + snap(pred).ravel(), minlength=n * n).reshape(n, n)
with np.errstate(divide="ignore", invalid="ignore"):
    per_pixel = np.diag(hist).sum() / hist.sum()
    per_class = np.nanmean(np.diag(hist) / hist.sum(1))
    iou = np.nanmean(np.diag(hist) / (hist.sum(1) + hist.sum(0) - np.diag(hist)))

expected = {
    "l1": float(np.abs(a.astype(np.float64) - b).mean()),
    "psnr": float(peak_signal_noise_ratio(a, b, data_range=255)),
    "ssim": float(structural_similarity(a, b, gaussian_weights=True, data_range=255, channel_axis=-1)),
    "pixel_accuracy": float(per_pixel),
    "mean_class_accuracy": float(per_class),
    "mean_iou": float(iou),
}
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
print(json.dumps(expected, indent=1))
