//! File writing that never leaves a half-written file behind.

use std::io::Write;
use std::path::Path;

use crate::error::CycleGanError;

/// Writes `bytes` to `path` atomically: into a temporary file in the same folder, flushed and
/// synced, then renamed over `path`. A crash at any moment leaves either the old file or the
/// new one, never a truncated one.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), CycleGanError> {
    let path = path.as_ref();
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
        file.write_all(bytes)?;
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
