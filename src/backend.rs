//! Run-time backend selection.
//!
//! Burn 0.22 tensors are backend-erased: the [`Device`] value picks the backend. Which
//! backends exist depends on the crate's Cargo features (`flex` (default), `ndarray`, `wgpu`,
//! `cuda`); this module turns a name such as `"cpu"` or `"wgpu"` into a device, or into a
//! clear error when that backend was not compiled in.

use burn::prelude::Device;

use crate::error::CycleGanError;

/// The names [`device`] accepts in this build, in order of preference.
pub fn available() -> Vec<&'static str> {
    let mut names = Vec::new();
    if cfg!(feature = "flex") {
        names.push("flex");
    }
    if cfg!(feature = "ndarray") {
        names.push("ndarray");
    }
    if cfg!(feature = "wgpu") {
        names.push("wgpu");
    }
    if cfg!(feature = "vulkan") {
        names.push("vulkan");
    }
    if cfg!(feature = "cuda") {
        names.push("cuda");
    }
    names
}

/// The default CPU device: Burn's pure-Rust Flex backend (or ndarray when only that is
/// compiled in).
///
/// ```
/// let device = cyclegan_burn::backend::cpu();
/// assert!(!device.is_autodiff());
/// ```
#[cfg(any(feature = "flex", feature = "ndarray"))]
pub fn cpu() -> Device {
    #[cfg(feature = "flex")]
    {
        Device::flex()
    }
    #[cfg(not(feature = "flex"))]
    #[allow(deprecated)]
    {
        Device::ndarray()
    }
}

/// A device by backend name: `cpu` (the default CPU backend), `flex`, `ndarray`, `wgpu`,
/// `vulkan` or `cuda` (`cuda:N` for the N-th GPU). Names are case-insensitive.
///
/// Only backends compiled in through Cargo features are available; anything else is a
/// [`CycleGanError::UnknownBackend`] listing what this build has.
///
/// ```
/// # #[cfg(feature = "flex")] {
/// let device = cyclegan_burn::backend::device("cpu").unwrap();
/// assert!(cyclegan_burn::backend::device("tpu").is_err());
/// # }
/// ```
pub fn device(name: &str) -> Result<Device, CycleGanError> {
    let lower = name.trim().to_ascii_lowercase();
    let (kind, index) = match lower.split_once(':') {
        Some((kind, index)) => {
            let index = index.parse::<usize>().map_err(|_| {
                CycleGanError::config(
                    "device",
                    format!("`{name}`: device index `{index}` is not a number"),
                )
            })?;
            (kind.to_string(), index)
        }
        None => (lower.clone(), 0),
    };
    let unknown = || CycleGanError::UnknownBackend {
        name: name.to_string(),
        available: {
            let mut names = available();
            if cfg!(any(feature = "flex", feature = "ndarray")) {
                names.insert(0, "cpu");
            }
            names.join(", ")
        },
    };
    if index > 0 && kind != "cuda" {
        return Err(CycleGanError::config(
            "device",
            format!(
                "`{name}`: {kind} has one device here (index 0); several GPUs are `cuda:0`, `cuda:1`, ..."
            ),
        ));
    }
    let device = match kind.as_str() {
        #[cfg(any(feature = "flex", feature = "ndarray"))]
        "cpu" => Ok(cpu()),
        #[cfg(feature = "flex")]
        "flex" => Ok(Device::flex()),
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        "ndarray" => Ok(Device::ndarray()),
        #[cfg(feature = "wgpu")]
        "wgpu" => Ok(Device::wgpu(burn::prelude::DeviceKind::DefaultDevice)),
        #[cfg(feature = "vulkan")]
        "vulkan" => Ok(Device::vulkan(burn::prelude::DeviceKind::DefaultDevice)),
        #[cfg(feature = "cuda")]
        "cuda" => Ok(Device::cuda(index)),
        _ => Err(unknown()),
    }?;
    if matches!(kind.as_str(), "wgpu" | "vulkan" | "cuda") {
        probe(name, &device, GPU_PROBE_TIMEOUT)?;
    }
    Ok(device)
}

/// How long [`device`] waits for a GPU backend to start before giving up.
///
/// The first operation on a wgpu or CUDA device initialises the driver; on a machine without
/// one this panics or, with some Vulkan loaders, never returns. Compiling the kernels of the
/// probe on a software driver (lavapipe) takes a few seconds, hence the generous limit.
pub const GPU_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs one small operation on `device` in a helper thread and waits at most `timeout` for
/// it: a driver that panics, errors or hangs becomes [`CycleGanError::BackendUnavailable`]
/// instead of a panic or a hang in the caller.
///
/// [`device`] calls this for the GPU backends; call it yourself to check a device made by
/// other means.
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use std::time::Duration;
/// let cpu = cyclegan_burn::backend::cpu();
/// cyclegan_burn::backend::probe("cpu", &cpu, Duration::from_secs(10)).unwrap();
/// # }
/// ```
pub fn probe(
    name: &str,
    device: &Device,
    timeout: std::time::Duration,
) -> Result<(), CycleGanError> {
    use burn::prelude::Tensor;
    let probe_device = device.clone();
    let sum = guarded(name, timeout, move || {
        Tensor::<1>::ones([4], &probe_device)
            .sum()
            .into_scalar::<f32>()
    })?;
    if sum == 4.0 {
        Ok(())
    } else {
        Err(CycleGanError::BackendUnavailable {
            name: name.to_string(),
            reason: format!("a test sum of four ones gave {sum}: the driver computes wrongly"),
        })
    }
}

/// Runs `work` in a helper thread named after the backend and waits at most `timeout`: a
/// panic or a hang becomes [`CycleGanError::BackendUnavailable`] for `name`.
fn guarded<T: Send + 'static>(
    name: &str,
    timeout: std::time::Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CycleGanError> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(format!("probe-{name}"))
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = sender.send(result);
        });
    let unavailable = |reason: String| CycleGanError::BackendUnavailable {
        name: name.to_string(),
        reason,
    };
    if let Err(e) = spawned {
        return Err(unavailable(format!("cannot start the probe thread: {e}")));
    }
    match receiver.recv_timeout(timeout) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(panic)) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the driver panicked".to_string());
            Err(unavailable(format!(
                "no working driver ({}); for wgpu on Linux install a Vulkan driver \
                 (e.g. Debian's mesa-vulkan-drivers), for cuda the NVIDIA driver",
                message.lines().next().unwrap_or_default()
            )))
        }
        Err(_) => Err(unavailable(format!(
            "the driver did not answer within {} s (no usable GPU or Vulkan driver?)",
            timeout.as_secs_f64()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_driver_that_panics_is_unavailable_not_a_panic() {
        let err = guarded("wgpu", Duration::from_secs(10), || -> f32 {
            panic!("No suitable graphics adapter found")
        })
        .unwrap_err();
        assert!(matches!(err, CycleGanError::BackendUnavailable { .. }));
        let message = err.to_string();
        assert!(
            message.contains("wgpu")
                && message.contains("No suitable graphics adapter found")
                && message.contains("mesa-vulkan-drivers"),
            "{message}"
        );
    }

    #[test]
    fn a_driver_that_hangs_is_unavailable_after_the_timeout() {
        let start = std::time::Instant::now();
        // The hang (10 minutes) is far longer than any scheduling delay of a loaded machine,
        // so "did not wait for it" has a wide margin either way.
        let err = guarded("vulkan", Duration::from_millis(200), || {
            std::thread::sleep(Duration::from_secs(600));
            4.0f32
        })
        .unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "waited for the hang"
        );
        let message = err.to_string();
        assert!(
            message.contains("vulkan") && message.contains("did not answer within 0.2 s"),
            "{message}"
        );
    }

    #[test]
    fn unknown_backend_names_what_is_available() {
        let err = device("tpu").unwrap_err().to_string();
        assert!(err.contains("tpu"), "{err}");
        #[cfg(feature = "flex")]
        assert!(err.contains("flex"), "{err}");
    }

    #[cfg(feature = "flex")]
    #[test]
    fn cpu_names_resolve() {
        for name in ["cpu", "CPU", "flex"] {
            assert!(device(name).is_ok(), "{name}");
        }
    }
}
