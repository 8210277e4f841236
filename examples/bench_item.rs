//! Times one benchmark item (`benches/items.rs`) in a fresh process and reports its peak
//! memory, as one JSON line: `scripts/bench_compare.py` runs it beside the same item in
//! PyTorch. For statistics over many samples use the criterion benches (`cargo bench`).
//!
//! ```text
//! cargo run --release --example bench_item -- --item generator_forward_256 --repeats 5
//! ```

mod common;
#[path = "../benches/items.rs"]
mod items;

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use common::BackendOption;
use cyclegan_burn::CycleGanError;
use items::Item;

/// Time one benchmark item and report peak memory.
#[derive(Parser, Debug)]
#[command(rename_all = "snake_case")]
struct Options {
    /// generator_forward_<size>, discriminator_forward_<size> or train_step_<size>.
    #[arg(long)]
    item: String,
    #[command(flatten)]
    backend: BackendOption,
    /// Timed iterations (the median is reported).
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Untimed iterations first.
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// Also count the GPU kernel launches of one more iteration (wgpu and CUDA builds):
    /// `"launches"` in the JSON line, the launches by kernel on standard error.
    #[arg(long)]
    launches: bool,
    /// Run Burn's own operations on the GPU instead of this crate's GPU kernels (wgpu and
    /// CUDA builds), for comparing the two.
    #[arg(long)]
    burn_ops: bool,
}

/// A field of /proc/self/status in MiB (Linux; 0 elsewhere).
fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let rest = line.strip_prefix(field)?.strip_prefix(':')?;
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn run(o: Options) -> Result<(), CycleGanError> {
    let item = Item::parse(&o.item).ok_or_else(|| {
        CycleGanError::config(
            "item",
            format!(
                "`{}`: use one of {}",
                o.item,
                Item::ALL.map(Item::name).join(", ")
            ),
        )
    })?;
    let device = o.backend.device()?;
    gpu_kernels(&o)?;
    let mut iteration = item.prepare(&device);
    let rss_before = status_mib("VmRSS");
    for _ in 0..o.warmup {
        iteration();
    }
    let mut times = Vec::with_capacity(o.repeats);
    for _ in 0..o.repeats.max(1) {
        let start = Instant::now();
        iteration();
        times.push(start.elapsed().as_secs_f64());
    }
    let launches = count_launches(&o, &mut iteration)?;
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{{\"impl\": \"cyclegan-burn\", \"item\": \"{}\", \"backend\": \"{}\", \"median_s\": {:.5}, \"min_s\": {:.5}, \"times\": [{}], \"rss_before_mib\": {:.1}, \"peak_rss_mib\": {:.1}{}}}",
        item.name(),
        o.backend.backend,
        sorted[sorted.len() / 2],
        sorted[0],
        times
            .iter()
            .map(|t| format!("{t:.5}"))
            .collect::<Vec<_>>()
            .join(", "),
        rss_before,
        status_mib("VmHWM"),
        launches
            .map(|count| format!(", \"launches\": {count}"))
            .unwrap_or_default(),
    );
    Ok(())
}

/// `--burn_ops`: this crate's GPU kernels off.
fn gpu_kernels(o: &Options) -> Result<(), CycleGanError> {
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    cyclegan_burn::kernels::set_gpu_kernels(!o.burn_ops);
    #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
    if o.burn_ops {
        return Err(CycleGanError::config(
            "burn_ops",
            "this build has no GPU backend (build with --features wgpu or cuda)",
        ));
    }
    Ok(())
}

/// `--launches`: the GPU kernel launches of one more iteration, by kernel on standard error.
fn count_launches(
    o: &Options,
    iteration: &mut dyn FnMut(),
) -> Result<Option<usize>, CycleGanError> {
    if !o.launches {
        return Ok(None);
    }
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    {
        let counter = cyclegan_burn::kernels::launches::LaunchCounter::start();
        iteration();
        for (kernel, count) in counter.by_kernel() {
            eprintln!("{count:6} {kernel}");
        }
        Ok(Some(counter.total()))
    }
    #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
    {
        let _ = iteration;
        Err(CycleGanError::config(
            "launches",
            "this build has no GPU backend (build with --features wgpu or cuda)",
        ))
    }
}

fn main() -> ExitCode {
    common::main_with(run)
}
