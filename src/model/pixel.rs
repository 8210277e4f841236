//! The 1×1 PatchGAN, `PixelDiscriminator` (`pixel`).

use burn::nn::conv::Conv2d;
use burn::prelude::*;

use super::init::{InitType, WeightInit, random_seed};
use super::layers::{ConvNorm, LEAKY, LEAKY_SLOPE, check_channels};
use super::norm::Norm;
use crate::error::CycleGanError;
use crate::kernels::{conv2d, leaky_relu, on_pool_thread};

#[derive(Config, Debug)]
pub struct PixelDiscriminatorConfig {
    /// Channels of the images it judges.
    pub input_nc: usize,
    /// Filters of the first conv layer. Default: 64.
    #[config(default = 64)]
    pub ndf: usize,
    /// Normalisation. Default: instance norm without affine parameters.
    #[config(default = "Norm::Instance")]
    pub norm: Norm,
    /// Weight initialisation. Default: normal.
    #[config(default = "InitType::Normal")]
    pub init_type: InitType,
    /// Scale of the initialisation. Default: 0.02.
    #[config(default = 0.02)]
    pub init_gain: f64,
}

impl PixelDiscriminatorConfig {
    /// Builds the discriminator with weights from a fresh random seed.
    pub fn init(&self, device: &Device) -> PixelDiscriminator {
        self.init_seeded(device, random_seed())
    }

    /// Builds the discriminator with weights drawn from `seed`.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> PixelDiscriminator {
        let mut weights = WeightInit::new(self.init_type, self.init_gain, seed);
        let bias = self.norm.conv_bias();
        let ndf = self.ndf;
        PixelDiscriminator {
            first: weights.conv2d(self.input_nc, ndf, 1, 1, 0, true, device),
            middle: ConvNorm {
                conv: weights.conv2d(ndf, ndf * 2, 1, 1, 0, bias, device),
                norm: self.norm.init(ndf * 2, &mut weights, device),
            },
            // The official last conv follows the bias rule too (unlike the PatchGAN's).
            last: weights.conv2d(ndf * 2, 1, 1, 1, 0, bias, device),
            input_nc: self.input_nc,
        }
    }
}

/// The 1×1 PatchGAN: one score per pixel.
#[derive(Module, Debug)]
pub struct PixelDiscriminator {
    /// 1×1 conv `input_nc → ndf` (then LeakyReLU).
    pub first: Conv2d,
    /// 1×1 conv `ndf → 2·ndf`, norm (then LeakyReLU).
    pub middle: ConvNorm,
    /// 1×1 conv to one channel.
    pub last: Conv2d,
    /// Input channels.
    pub input_nc: usize,
}

impl PixelDiscriminator {
    /// Scores `[N, input_nc, H, W]` as `[N, 1, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        on_pool_thread(&x.device(), || {
            let x = leaky_relu(conv2d(&self.first, x), LEAKY_SLOPE);
            let x = self.middle.forward_activated(x, LEAKY);
            conv2d(&self.last, x)
        })
    }

    /// [`forward`](Self::forward) after [`check_input`](Self::check_input).
    pub fn try_forward(&self, x: Tensor<4>) -> Result<Tensor<4>, CycleGanError> {
        self.check_input(x.dims())?;
        Ok(self.forward(x))
    }

    /// Checks the channel count and a non-empty image.
    pub fn check_input(&self, shape: [usize; 4]) -> Result<(), CycleGanError> {
        check_channels(shape, self.input_nc)?;
        if shape[2] == 0 || shape[3] == 0 {
            return Err(CycleGanError::InvalidInputShape {
                shape,
                reason: "the image is empty".into(),
            });
        }
        Ok(())
    }
}

super::network::impl_network!(PixelDiscriminator, |self| 1);
