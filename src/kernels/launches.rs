//! Counting the GPU kernel launches of a piece of work (wgpu and CUDA builds).
//!
//! On a GPU, this crate's networks are small enough per layer that what a pass costs is
//! mostly how many kernels it launches: each launch costs the host a few microseconds and
//! the device a pass over memory, whatever it computes. [`LaunchCounter`] counts them, by
//! kernel, through CubeCL's launch observer: every launch issued on any CubeCL device, from
//! any thread, while the counter lives. Launches are counted when issued, so a count needs
//! no synchronisation; the first passes of a process also count autotuning's trial launches
//! (run the work once before counting to leave them out).
//!
//! ```no_run
//! use cyclegan_burn::kernels::launches::LaunchCounter;
//! use cyclegan_burn::prelude::*;
//!
//! let device = backend::device("wgpu").unwrap();
//! let g = ResnetGeneratorConfig::new(3, 3).init_seeded(&device, 0);
//! let x = Tensor::<4>::zeros([1, 3, 256, 256], &device);
//! let _ = g.forward(x.clone()); // autotuning's trials, uncounted
//! let counter = LaunchCounter::start();
//! let _ = g.forward(x);
//! println!("{} launches per generator forward pass", counter.total());
//! for (kernel, count) in counter.by_kernel() {
//!     println!("{count:5} {kernel}");
//! }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use burn_cubecl::cubecl::config::{TypeNameFormatLevel, type_name_format};
use burn_cubecl::cubecl::logging::{LaunchObservation, LaunchObserver};

/// Counts every GPU kernel launch from [`start`](Self::start) until it is dropped (see the
/// [module](self) documentation).
///
/// CubeCL has one launch observer per process: a counter started while another lives takes
/// over until it is dropped, and the earlier one counts nothing meanwhile.
pub struct LaunchCounter {
    counts: Arc<Counts>,
    _observation: LaunchObservation,
}

/// Launches by kernel name (the name each kernel type gives itself).
#[derive(Default)]
struct Counts(Mutex<HashMap<&'static str, usize>>);

impl LaunchObserver for Counts {
    fn launched(&self, kernel: &'static str) {
        let mut counts = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *counts.entry(kernel).or_default() += 1;
    }
}

impl LaunchCounter {
    /// Starts counting.
    pub fn start() -> Self {
        let counts = Arc::new(Counts::default());
        let observer: Arc<dyn LaunchObserver> = counts.clone();
        Self {
            counts,
            _observation: LaunchObservation::new(observer),
        }
    }

    /// Launches counted so far.
    pub fn total(&self) -> usize {
        self.snapshot().values().sum()
    }

    /// Launches counted so far by kernel, most launched first (then by name), each kernel by
    /// its short name (its type's name without module path or generic arguments, so kernels
    /// that differ only in them are counted together).
    pub fn by_kernel(&self) -> Vec<(String, usize)> {
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (kernel, count) in self.snapshot() {
            *by_name
                .entry(type_name_format(kernel, TypeNameFormatLevel::Short))
                .or_default() += count;
        }
        let mut counts: Vec<(String, usize)> = by_name.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts
    }

    /// Forgets what was counted so far and counts on.
    pub fn reset(&self) {
        self.counts
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    fn snapshot(&self) -> HashMap<&'static str, usize> {
        self.counts
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl std::fmt::Debug for LaunchCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaunchCounter")
            .field("total", &self.total())
            .finish()
    }
}
