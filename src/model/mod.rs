//! The networks of the official CycleGAN, layer for layer.

pub mod activation;
pub mod conv;
pub mod discriminator;
#[cfg(feature = "flex")]
pub(crate) mod flex_tensor;
pub mod generator;
pub mod init;
pub mod instance_norm;
pub mod norm;
pub mod padding;
#[cfg(feature = "flex")]
mod tap_conv;
#[cfg(feature = "flex")]
mod winograd;

pub use discriminator::{
    NLayerDiscriminator, NLayerDiscriminatorConfig, PixelDiscriminator, PixelDiscriminatorConfig,
};
pub use generator::{
    ResnetBlock, ResnetGenerator, ResnetGeneratorConfig, UnetGenerator, UnetGeneratorConfig,
};
pub use init::InitType;
pub use norm::{Norm, NormLayer};
pub use padding::PaddingType;
