//! File writing that never leaves a half-written file behind.

use std::io::Write;
use std::path::Path;

use crate::error::CycleGanError;

/// Writes `bytes` to `path` atomically: into a temporary file in the same folder, flushed and
/// synced, then renamed over `path`. A crash at any moment leaves either the old file or the
/// new one, never a truncated one; a failed write (disk full, say) removes the temporary file,
/// leaves the old file as it was and names `path` in the error.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), CycleGanError> {
    write_atomic_with(path.as_ref(), bytes, |file, bytes| file.write_all(bytes))
}

/// [`write_atomic`] with the write into the temporary file done by `write` (tests use it to
/// simulate a device that fills up).
pub fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    write: impl FnOnce(&mut std::fs::File, &[u8]) -> std::io::Result<()>,
) -> Result<(), CycleGanError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        write(&mut file, bytes)?;
        file.flush()?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(CycleGanError::io(path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_leaves_the_old_file_and_no_temporary() {
        let dir = std::env::temp_dir().join(format!("cyclegan-burn-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("latest_net_G_A.safetensors");
        write_atomic(&path, b"good checkpoint").unwrap();
        let err = write_atomic_with(&path, b"new checkpoint that does not fit", |file, bytes| {
            // Half of it gets written, then the device is full.
            file.write_all(&bytes[..bytes.len() / 2])?;
            Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "No space left on device",
            ))
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("latest_net_G_A.safetensors") && err.contains("No space left"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"good checkpoint");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unwritable_folder_is_named() {
        let err = write_atomic("/proc/definitely/not/here.bin", b"x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/proc/definitely/not/here.bin"), "{err}");
    }
}
