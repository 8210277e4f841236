//! `.pth` checkpoints (PyTorch zip and legacy pickle formats): any bytes give a state dict or
//! an error, never a panic, an abort or unbounded memory.
#![no_main]

use std::path::Path;

use cyclegan_burn::import::state_dict::{parse_state_dict, CheckpointFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_state_dict(data, CheckpointFormat::Pth, Path::new("fuzz.pth"));
});
