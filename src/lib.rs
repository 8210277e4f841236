//! # cyclegan-burn
//!
//! Unpaired image-to-image translation (CycleGAN, Zhu et al. 2017) on the
//! [Burn](https://burn.dev) deep learning framework, computing what the official PyTorch
//! implementation (`junyanz/pytorch-CycleGAN-and-pix2pix`) computes.
//!
//! The crate is layered: the programs (`examples/`) use [`train`], [`translate`] and
//! [`metrics`]; those use [`model`], [`data`] and [`import`]; the networks run their layers
//! through [`kernels`], which hands them to Burn (`docs/architecture.md`).
//!
//! Burn 0.22 tensors carry no backend type: the [`Device`](burn::prelude::Device) picks the
//! backend at run time, so every function here takes a `&Device` and the same code runs on
//! the CPU (`flex`, the default feature), wgpu or CUDA.
//!
//! ```
//! # #[cfg(feature = "flex")] {
//! use cyclegan_burn::prelude::*;
//!
//! let device = backend::cpu();
//! let g = ResnetGeneratorConfig::new(3, 3).with_ngf(8).with_n_blocks(2).init_seeded(&device, 0);
//! let d = NLayerDiscriminatorConfig::new(3).with_ndf(8).init_seeded(&device, 1);
//! let fake = g.forward(Tensor::zeros([1, 3, 64, 64], &device));
//! assert_eq!(d.forward(fake).dims(), [1, 1, 6, 6]);
//! # }
//! ```

pub mod backend;
pub mod cut;
pub mod data;
pub mod error;
pub mod import;
pub mod io;
pub mod kernels;
pub mod loss;
pub mod metrics;
pub mod model;
mod names;
pub mod pool;
pub mod train;
pub mod translate;

pub use error::{CycleGanError, Result};

/// Everything needed to build, train and run the networks.
pub mod prelude {
    pub use crate::backend;
    pub use crate::error::CycleGanError;
    pub use crate::import::PytorchLayout;
    pub use crate::loss::{CycleLoss, GanLoss, GanMode, LossConfig};
    pub use crate::model::{
        CycleGanNets, Discriminator, DiscriminatorKind, Generator, GeneratorKind, InitType,
        NLayerDiscriminator, NLayerDiscriminatorConfig, Network, NetworksConfig, Norm, PaddingType,
        PixelDiscriminator, PixelDiscriminatorConfig, ResnetGenerator, ResnetGeneratorConfig,
        UnetGenerator, UnetGeneratorConfig,
    };
    pub use crate::pool::ImagePool;
    pub use crate::train::{
        CycleGan, CycleGanConfig, LossTerm, LrPolicy, OptimizerConfig, ScheduleConfig, StepLosses,
    };
    pub use burn::prelude::{Device, Module, Tensor, TensorData};
}

/// The README, whose library section is a complete program: compiled and run with the
/// crate's doctests, so that it cannot drift from the API.
#[cfg(all(doctest, feature = "flex"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
