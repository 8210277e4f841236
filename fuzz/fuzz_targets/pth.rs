//! `.pth` checkpoints (PyTorch zip and legacy pickle formats): any bytes give a state dict or
//! an error, never a panic, an abort or unbounded memory. The library reads `.pth` files
//! from their path (a PyTorch container keeps tensor data outside its pickle), so the
//! harness writes each input to a file of its own.
#![no_main]

use cyclegan_burn::import::state_dict::read_state_dict;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("cyclegan-burn-fuzz-{}.pth", std::process::id()));
    std::fs::write(&path, data).expect("the fuzz input is written");
    let _ = read_state_dict(&path);
});
