//! Burn records (the `nets.bpk` / `optim_*.bpk` files of a resume bundle).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(data.to_vec()));
});
