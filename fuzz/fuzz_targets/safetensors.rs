//! `.safetensors` checkpoints.
#![no_main]

use std::path::Path;

use cyclegan_burn::import::state_dict::{parse_state_dict, CheckpointFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_state_dict(data, CheckpointFormat::Safetensors, Path::new("fuzz.safetensors"));
});
