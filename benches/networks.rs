//! Criterion benches of the default networks on every compiled backend: the README
//! preset's training step at 32², generator forward at 64², 128², 256², discriminator
//! forward at 256², a full training step at 64² and 128² (batch 1), the translate
//! program's work on a folder of 256² JPEGs, and the decoding of that folder by the crate's
//! JPEG decoder and by the `image` crate's (items in `benches/items.rs`).
//!
//! ```text
//! cargo bench --bench networks                              # the CPU backend(s)
//! cargo bench --features wgpu --bench networks              # adds wgpu
//! CYCLEGAN_BENCH_BACKENDS=wgpu cargo bench --features wgpu --bench networks -- generator
//! ```
//!
//! `CYCLEGAN_BENCH_BACKENDS` (comma-separated names of `backend::device`) picks the backends;
//! the default is every compiled one. A backend that cannot start here (no GPU driver) is
//! reported and skipped. For the side-by-side table with PyTorch, GFLOP/s and peak memory,
//! see `scripts/bench_compare.py` and `docs/benchmarks.md`.

mod items;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use cyclegan_burn::backend;
use items::Item;

fn backends() -> Vec<String> {
    match std::env::var("CYCLEGAN_BENCH_BACKENDS") {
        Ok(list) if !list.trim().is_empty() => {
            list.split(',').map(|s| s.trim().to_string()).collect()
        }
        _ => backend::available().iter().map(|s| s.to_string()).collect(),
    }
}

fn networks(c: &mut Criterion) {
    for name in backends() {
        let device = match backend::device(&name) {
            Ok(device) => device,
            Err(e) => {
                eprintln!("skipping backend {name}: {e}");
                continue;
            }
        };
        for item in Item::ALL {
            let mut group = c.benchmark_group(item.name());
            // Seconds per iteration on two CPU cores: the fewest samples criterion takes.
            group.sample_size(10);
            group.warm_up_time(Duration::from_secs(1));
            group.measurement_time(Duration::from_secs(5));
            let mut iteration = item.prepare(&device);
            group.bench_function(&name, |b| b.iter(&mut iteration));
            group.finish();
        }
    }
}

criterion_group!(benches, networks);
criterion_main!(benches);
