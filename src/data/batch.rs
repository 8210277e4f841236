//! Batching [`UnalignedItem`]s into tensors (with Burn's `Batcher`), and an ordered,
//! multi-threaded loader.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use burn::prelude::*;

use super::folder::{ImageItem, UnalignedDataset, UnalignedItem};
use crate::error::CycleGanError;

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
            image.shape,
            images[0].shape,
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

/// An ordered, prefetching loader: batches of `batch_size` consecutive items of the
/// dataset's epoch order (see [`UnalignedDataset::set_epoch`]), decoded by `num_workers`
/// threads (0: in the calling thread) and batched with [`CycleGanBatcher`] on `device`.
///
/// Unlike a loader that yields batches as workers finish them, batches always come in the
/// same order, so a seeded run is reproducible with any number of workers and a resumed
/// run sees the data an uninterrupted one would.
#[derive(Debug, Clone)]
pub struct DataLoader {
    dataset: Arc<UnalignedDataset>,
    batch_size: usize,
    num_workers: usize,
    device: Device,
}

/// How many batches workers may run ahead of the consumer, per worker.
const PREFETCH_PER_WORKER: usize = 2;

impl DataLoader {
    /// A loader over `dataset`.
    pub fn new(
        dataset: Arc<UnalignedDataset>,
        batch_size: usize,
        num_workers: usize,
        device: &Device,
    ) -> Self {
        Self {
            dataset,
            batch_size: batch_size.max(1),
            num_workers,
            device: device.clone(),
        }
    }

    /// Batches per epoch (the last one may be smaller).
    pub fn num_batches(&self) -> usize {
        self.dataset.len().div_ceil(self.batch_size)
    }

    /// The batches of the dataset's current epoch, in order. A file that cannot be read
    /// ends the iteration with an error naming it.
    pub fn iter(&self) -> BatchIter {
        self.iter_from(0)
    }

    /// The batches of the current epoch from batch `first` on (batch `first` is the one
    /// [`iter`](Self::iter) yields after skipping `first`), without loading the skipped
    /// ones: a run resumed inside an epoch sees the rest of that epoch's order.
    pub fn iter_from(&self, first: usize) -> BatchIter {
        let n_batches = self.num_batches();
        let first = first.min(n_batches);
        let shared = Arc::new(Shared {
            consumed: Mutex::new(first),
            advanced: Condvar::new(),
            stop: AtomicBool::new(false),
            next: AtomicUsize::new(first),
        });
        let (sender, receiver) = mpsc::channel();
        let workers = (0..self.num_workers)
            .map(|_| {
                let (dataset, shared, sender) =
                    (self.dataset.clone(), shared.clone(), sender.clone());
                let (batch_size, window) =
                    (self.batch_size, self.num_workers * PREFETCH_PER_WORKER);
                std::thread::spawn(move || {
                    loop {
                        let index = shared.next.fetch_add(1, Ordering::SeqCst);
                        if index >= n_batches || shared.stop.load(Ordering::SeqCst) {
                            return;
                        }
                        {
                            let mut consumed = shared.consumed.lock().expect("loader lock");
                            while index >= *consumed + window && !shared.stop.load(Ordering::SeqCst)
                            {
                                consumed = shared.advanced.wait(consumed).expect("loader lock");
                            }
                        }
                        if shared.stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let items = load_batch(&dataset, index, batch_size);
                        if sender.send((index, items)).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        BatchIter {
            loader: self.clone(),
            receiver,
            buffer: BTreeMap::new(),
            next: first,
            n_batches,
            shared,
            workers,
            failed: false,
        }
    }
}

fn load_batch(
    dataset: &UnalignedDataset,
    index: usize,
    batch_size: usize,
) -> Result<Vec<UnalignedItem>, CycleGanError> {
    let start = index * batch_size;
    let end = (start + batch_size).min(dataset.len());
    (start..end).map(|i| dataset.try_get(i)).collect()
}

#[derive(Debug)]
struct Shared {
    consumed: Mutex<usize>,
    advanced: Condvar,
    stop: AtomicBool,
    next: AtomicUsize,
}

type Loaded = (usize, Result<Vec<UnalignedItem>, CycleGanError>);

/// The iterator of [`DataLoader::iter`].
#[derive(Debug)]
pub struct BatchIter {
    loader: DataLoader,
    receiver: mpsc::Receiver<Loaded>,
    buffer: BTreeMap<usize, Result<Vec<UnalignedItem>, CycleGanError>>,
    next: usize,
    n_batches: usize,
    shared: Arc<Shared>,
    workers: Vec<std::thread::JoinHandle<()>>,
    failed: bool,
}

impl Iterator for BatchIter {
    type Item = Result<CycleGanBatch, CycleGanError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.n_batches || self.failed {
            return None;
        }
        let items = if self.workers.is_empty() {
            load_batch(&self.loader.dataset, self.next, self.loader.batch_size)
        } else {
            loop {
                if let Some(items) = self.buffer.remove(&self.next) {
                    break items;
                }
                match self.receiver.recv() {
                    Ok((index, items)) => {
                        self.buffer.insert(index, items);
                    }
                    Err(_) => {
                        self.failed = true;
                        return Some(Err(CycleGanError::DataLoader {
                            message:
                                "a worker thread ended before sending its batches (it panicked)"
                                    .into(),
                        }));
                    }
                }
            }
        };
        self.next += 1;
        *self.shared.consumed.lock().expect("loader lock") = self.next;
        self.shared.advanced.notify_all();
        match items {
            Ok(items) => Some(Ok(CycleGanBatcher.batch(items, &self.loader.device))),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl Drop for BatchIter {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.advanced.notify_all();
        // Unblock senders, then wait for the workers.
        while self.receiver.try_recv().is_ok() {}
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}
