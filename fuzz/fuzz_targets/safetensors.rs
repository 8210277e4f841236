//! `.safetensors` checkpoints.
#![no_main]

use std::path::Path;

use cyclegan_burn::import::state_dict::parse_safetensors;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_safetensors(data, Path::new("fuzz.safetensors"));
});
