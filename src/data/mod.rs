//! Data: unaligned image folders with the official transforms, the embedded StripeShapes
//! dataset, image ↔ tensor conversion and batching, and a JPEG decoder with PIL's pixels.

pub mod batch;
pub mod folder;
pub mod image;
pub mod jpeg;
pub mod paired;
pub mod synthetic;
pub mod transform;

pub use batch::{CycleGanBatch, CycleGanBatcher, DataLoader};
pub use folder::{DatasetOptions, Direction, ImageSource, UnalignedDataset, UnalignedItem};
pub use synthetic::{Domain, StripeShapes};
pub use transform::{Preprocess, TransformOptions};
