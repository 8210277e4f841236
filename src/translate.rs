//! Translating whole images of any size with a trained generator.

use burn::prelude::*;
use image::RgbImage;

use crate::data::image::{rgb_to_tensor, tensor_to_rgb};
use crate::error::CycleGanError;
use crate::model::{Generator, Network};

/// Translates one RGB image at full resolution: the image is reflect-padded (edge-padded
/// where it is too small to reflect) on the right and bottom up to the generator's size
/// multiple, translated, and cropped back, so the output has the input's exact size.
/// Greyscale generators (1 input channel) get the image's luma.
pub fn translate_rgb(
    generator: &Generator,
    image: &RgbImage,
    device: &Device,
) -> Result<RgbImage, CycleGanError> {
    let (w, h) = image.dimensions();
    let (w, h) = (w as usize, h as usize);
    let multiple = generator.size_multiple();
    let (padded_w, padded_h) = (
        w.div_ceil(multiple) * multiple,
        h.div_ceil(multiple) * multiple,
    );
    let mut x = rgb_to_tensor(image, device).unsqueeze_dim::<4>(0);
    if generator.input_nc() == 1 {
        let rgb = x.clone();
        let [r, g, b] = [0, 1, 2].map(|c| rgb.clone().slice(s![0..1, c..c + 1, 0..h, 0..w]));
        x = r * 0.299 + g * 0.587 + b * 0.114;
    }
    if (padded_w, padded_h) != (w, h) {
        let (pad_w, pad_h) = (padded_w - w, padded_h - h);
        let mode = if pad_w < w && pad_h < h {
            burn::tensor::ops::PadMode::Reflect
        } else {
            burn::tensor::ops::PadMode::Edge
        };
        x = x.pad([(0, pad_h), (0, pad_w)], mode);
    }
    generator.check_input(x.dims())?;
    let y = generator.forward(x);
    let [_, c, _, _] = y.dims();
    let y = y.slice(s![0..1, 0..c, 0..h, 0..w]).squeeze_dim::<3>(0);
    tensor_to_rgb(y)
}
