//! The networks of the official CycleGAN, layer for layer, and everything a network is:
//! the architectures (one file each), the [`Generator`] and [`Discriminator`] that hold any
//! of them, what every network answers ([`Network`]), and the four networks of a CycleGAN
//! with the options that build them ([`CycleGanNets`], [`NetworksConfig`]).
//!
//! Networks run their layers through the [`kernels`](crate::kernels) layer; nothing here
//! knows about training.

pub mod antialias;
pub mod discriminator;
pub mod generator;
pub mod init;
mod layers;
pub mod network;
pub mod networks;
pub mod nlayer;
pub mod norm;
pub mod padding;
pub mod pixel;
pub mod resnet;
pub mod unet;

pub use discriminator::{Discriminator, DiscriminatorKind};
pub use generator::{Generator, GeneratorKind};
pub use init::InitType;
pub use layers::{ConvNorm, ConvTransposeNorm};
pub use network::Network;
pub use networks::{CycleGanNets, NetworksConfig};
pub use nlayer::{NLayerDiscriminator, NLayerDiscriminatorConfig};
pub use norm::{Norm, NormLayer};
pub use padding::PaddingType;
pub use pixel::{PixelDiscriminator, PixelDiscriminatorConfig};
pub use resnet::{ResnetBlock, ResnetGenerator, ResnetGeneratorConfig};
pub use unet::{UnetBlock, UnetGenerator, UnetGeneratorConfig, UnetRole};
