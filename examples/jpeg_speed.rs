// Scratch (not committed): our decoder against the image crate's on the files given.
use std::time::Instant;
fn main() {
    let only: Option<String> = std::env::var("ONLY").ok();
    let files: Vec<Vec<u8>> = std::env::args()
        .skip(1)
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    for round in 0..6 {
        let mut n = 0usize;
        let t = Instant::now();
        if only.as_deref() != Some("theirs") {
            for _ in 0..5 {
                for b in &files {
                    n += cyclegan_burn::data::jpeg::decode_jpeg(b)
                        .unwrap()
                        .pixels
                        .len();
                }
            }
        }
        let ours = t.elapsed().as_secs_f64();
        let t = Instant::now();
        if only.as_deref() != Some("ours") {
            for _ in 0..5 {
                for b in &files {
                    n += image::load_from_memory(b).unwrap().to_rgb8().len();
                }
            }
        }
        let theirs = t.elapsed().as_secs_f64();
        println!(
            "round {round}: ours {:.3} ms/image, image crate {:.3} ms/image, ratio {:.2} ({n})",
            ours * 1e3 / (5.0 * files.len() as f64),
            theirs * 1e3 / (5.0 * files.len() as f64),
            ours / theirs
        );
    }
}
