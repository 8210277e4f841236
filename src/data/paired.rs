//! Paired test sets for evaluation: `<root>/<phase>A/<stem>.*` ↔ `<root>/<phase>B/<stem>.*`
//! (facades), and the StripeShapes test split.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::folder::list_images;
use crate::error::CycleGanError;

/// The pairs of `<root>/<phase>A` and `<root>/<phase>B` that share a file stem, sorted by
/// stem. Images without a partner are an error naming the first one.
pub fn paired_files(root: &Path, phase: &str) -> Result<Vec<(PathBuf, PathBuf)>, CycleGanError> {
    let by_stem = |dir: PathBuf| -> Result<BTreeMap<String, PathBuf>, CycleGanError> {
        Ok(list_images(&dir, usize::MAX)?
            .into_iter()
            .map(|p| {
                (
                    p.file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    p,
                )
            })
            .collect())
    };
    let a = by_stem(root.join(format!("{phase}A")))?;
    let mut b = by_stem(root.join(format!("{phase}B")))?;
    let mut pairs = Vec::with_capacity(a.len());
    for (stem, path_a) in a {
        let path_b = b.remove(&stem).ok_or_else(|| CycleGanError::Data {
            path: path_a.clone(),
            message: format!("no image named {stem}.* in {phase}B to pair with"),
        })?;
        pairs.push((path_a, path_b));
    }
    if let Some((_, path)) = b.into_iter().next() {
        return Err(CycleGanError::Data {
            path,
            message: format!("no image with this name in {phase}A to pair with"),
        });
    }
    Ok(pairs)
}
