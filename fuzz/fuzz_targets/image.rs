//! The image-to-tensor path: decode any bytes as an image, then the official transform and
//! the conversion to [-1, 1] values.
#![no_main]

use std::path::Path;

use cyclegan_burn::data::folder::decode_rgb;
use cyclegan_burn::data::transform::{Preprocess, TransformOptions};
use libfuzzer_sys::fuzz_target;
fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.img");
    let Ok(image) = decode_rgb(data.to_vec(), path) else {
        return;
    };
    let options = TransformOptions {
        preprocess: Preprocess::Crop,
        crop_size: 8,
        ..Default::default()
    };
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
    if let Ok((cropped, _)) = options.apply(&image, &mut rng, path) {
        let values = options.to_chw(&cropped);
        assert_eq!(values.len(), 3 * 8 * 8);
        assert!(values.iter().all(|v| (-1.0..=1.0).contains(v)));
    }
});
