//! Batching [`UnalignedItem`]s into tensors with Burn's data loader.

use std::path::PathBuf;
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::prelude::*;

use super::folder::{ImageItem, UnalignedDataset, UnalignedItem};

/// A batch of both domains, `[N, C, H, W]` in [−1, 1], with the source paths.
#[derive(Debug, Clone)]
pub struct CycleGanBatch {
    /// Domain A images.
    pub real_a: Tensor<4>,
    /// Domain B images.
    pub real_b: Tensor<4>,
    /// Where each A image came from.
    pub paths_a: Vec<PathBuf>,
    /// Where each B image came from.
    pub paths_b: Vec<PathBuf>,
}

/// Stacks items into a [`CycleGanBatch`] on the loader's device.
#[derive(Debug, Clone, Copy, Default)]
pub struct CycleGanBatcher;

fn stack(images: Vec<&ImageItem>, device: &Device) -> Tensor<4> {
    let [c, h, w] = images[0].shape;
    for image in &images {
        assert_eq!(
            image.shape, images[0].shape,
            "images of one batch must share a size ({} vs {}); use batch_size 1 with preprocess none/scale_width",
            image.path.display(),
            images[0].path.display()
        );
    }
    let n = images.len();
    let mut values = Vec::with_capacity(n * c * h * w);
    for image in images {
        values.extend_from_slice(&image.values);
    }
    Tensor::from_data(TensorData::new(values, [n, c, h, w]), device)
}

impl Batcher<UnalignedItem, CycleGanBatch> for CycleGanBatcher {
    fn batch(&self, items: Vec<UnalignedItem>, device: &Device) -> CycleGanBatch {
        CycleGanBatch {
            real_a: stack(items.iter().map(|i| &i.a).collect(), device),
            real_b: stack(items.iter().map(|i| &i.b).collect(), device),
            paths_a: items.iter().map(|i| i.a.path.clone()).collect(),
            paths_b: items.iter().map(|i| i.b.path.clone()).collect(),
        }
    }
}

/// A data loader over `dataset`: `batch_size` items per batch in the dataset's order for
/// its current epoch (shuffled by the dataset itself unless `serial_batches`: see
/// [`UnalignedDataset::set_epoch`]), decoded by `num_workers` threads (0 = in the calling
/// thread), batches placed on `device`.
pub fn data_loader(
    dataset: Arc<UnalignedDataset>,
    batch_size: usize,
    num_workers: usize,
    device: &Device,
) -> Arc<dyn DataLoader<CycleGanBatch>> {
    DataLoaderBuilder::new(CycleGanBatcher)
        .batch_size(batch_size.max(1))
        .num_workers(num_workers)
        .set_device(device.clone())
        .build(dataset)
}
