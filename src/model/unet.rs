//! The U-Net generator (`unet_256` / `unet_128`), as in
//! `junyanz/pytorch-CycleGAN-and-pix2pix/models/networks.py`.

use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::nn::{Dropout, DropoutConfig};
use burn::prelude::*;

use super::init::{InitType, WeightInit, random_seed};
use super::layers::{LEAKY_SLOPE, check_channels};
use super::norm::{Norm, NormLayer};
use crate::error::CycleGanError;
use crate::kernels::{Activation, activate, conv_transpose2d, conv2d, leaky_relu, on_pool_thread};

/// Configuration of a [`UnetGenerator`]: `num_downs` 7 is the official `unet_128`, 8 is
/// `unet_256`. Inputs must have sides divisible by `2^num_downs`.
#[derive(Config, Debug)]
pub struct UnetGeneratorConfig {
    /// Channels of the input images.
    pub input_nc: usize,
    /// Channels of the output images.
    pub output_nc: usize,
    /// Number of downsamplings (≥ 5): 7 for 128×128 images, 8 for 256×256.
    pub num_downs: usize,
    /// Filters of the outermost conv layer. Default: 64.
    #[config(default = 64)]
    pub ngf: usize,
    /// Normalisation. Default: instance norm without affine parameters.
    #[config(default = "Norm::Instance")]
    pub norm: Norm,
    /// Dropout 0.5 in the `num_downs - 5` innermost middle blocks. Default: false.
    #[config(default = false)]
    pub dropout: bool,
    /// Weight initialisation. Default: normal.
    #[config(default = "InitType::Normal")]
    pub init_type: InitType,
    /// Scale of the initialisation. Default: 0.02.
    #[config(default = 0.02)]
    pub init_gain: f64,
}

impl UnetGeneratorConfig {
    /// The official `unet_128`.
    pub fn unet_128(input_nc: usize, output_nc: usize) -> Self {
        Self::new(input_nc, output_nc, 7)
    }

    /// The official `unet_256`.
    pub fn unet_256(input_nc: usize, output_nc: usize) -> Self {
        Self::new(input_nc, output_nc, 8)
    }

    /// Builds the generator with weights from a fresh random seed.
    ///
    /// # Panics
    ///
    /// If `num_downs < 5` (use [`try_init_seeded`](Self::try_init_seeded) for an error).
    pub fn init(&self, device: &Device) -> UnetGenerator {
        self.init_seeded(device, random_seed())
    }

    /// Builds the generator with weights drawn from `seed`.
    ///
    /// # Panics
    ///
    /// If `num_downs < 5`.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> UnetGenerator {
        self.try_init_seeded(device, seed)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Builds the generator, or says why the configuration is invalid.
    pub fn try_init_seeded(
        &self,
        device: &Device,
        seed: u64,
    ) -> Result<UnetGenerator, CycleGanError> {
        if self.num_downs < 5 {
            return Err(CycleGanError::config(
                "netG",
                format!("a U-Net needs num_downs >= 5, got {}", self.num_downs),
            ));
        }
        let mut weights = WeightInit::new(self.init_type, self.init_gain, seed);
        let ngf = self.ngf;
        // (outer_nc, inner_nc, input_nc, role), outermost first, as the official constructor
        // nests them.
        let mut levels = vec![(self.output_nc, ngf, self.input_nc, UnetRole::Outermost)];
        levels.push((ngf, ngf * 2, ngf, UnetRole::Middle));
        levels.push((ngf * 2, ngf * 4, ngf * 2, UnetRole::Middle));
        levels.push((ngf * 4, ngf * 8, ngf * 4, UnetRole::Middle));
        for _ in 0..self.num_downs - 5 {
            levels.push((ngf * 8, ngf * 8, ngf * 8, UnetRole::MiddleWithDropout));
        }
        levels.push((ngf * 8, ngf * 8, ngf * 8, UnetRole::Innermost));
        let blocks = levels
            .into_iter()
            .map(|(outer, inner, input, role)| {
                UnetBlock::new(
                    outer,
                    inner,
                    input,
                    role,
                    self.norm,
                    self.dropout,
                    &mut weights,
                    device,
                )
            })
            .collect();
        Ok(UnetGenerator {
            blocks,
            input_nc: self.input_nc,
            output_nc: self.output_nc,
        })
    }
}

/// Where a [`UnetBlock`] sits in the U.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UnetRole {
    /// The outermost level: no norm, tanh output, no skip concatenation.
    Outermost,
    /// A middle level.
    Middle,
    /// A middle level that gets dropout when the network has it.
    MiddleWithDropout,
    /// The bottleneck: no norm after the down conv.
    Innermost,
}

/// One level of the U-Net (the official `UnetSkipConnectionBlock`, without the nesting: the
/// generator keeps the levels in a list, outermost first).
#[derive(Module, Debug)]
pub struct UnetBlock {
    /// 4×4 stride-2 conv down.
    pub down_conv: Conv2d,
    /// Norm after the down conv (identity at the outermost and innermost levels).
    pub down_norm: NormLayer,
    /// 4×4 stride-2 transposed conv up.
    pub up_conv: ConvTranspose2d,
    /// Norm after the up conv (identity at the outermost level).
    pub up_norm: NormLayer,
    /// Dropout 0.5 after the up norm, when enabled.
    pub dropout: Option<Dropout>,
    /// Position of the level.
    #[module(skip)]
    pub role: UnetRole,
}

impl UnetBlock {
    #[allow(clippy::too_many_arguments)]
    fn new(
        outer_nc: usize,
        inner_nc: usize,
        input_nc: usize,
        role: UnetRole,
        norm: Norm,
        dropout: bool,
        weights: &mut WeightInit,
        device: &Device,
    ) -> Self {
        let bias = norm.conv_bias();
        let down_conv = weights.conv2d(input_nc, inner_nc, 4, 2, 1, bias, device);
        let down_norm = match role {
            UnetRole::Middle | UnetRole::MiddleWithDropout => norm.init(inner_nc, weights, device),
            _ => Norm::None.init(inner_nc, weights, device),
        };
        let (up_in, up_bias) = match role {
            UnetRole::Outermost => (inner_nc * 2, true),
            UnetRole::Innermost => (inner_nc, bias),
            _ => (inner_nc * 2, bias),
        };
        let up_conv = weights.conv_transpose2d(up_in, outer_nc, 4, 2, 1, 0, up_bias, device);
        let up_norm = match role {
            UnetRole::Outermost => Norm::None.init(outer_nc, weights, device),
            _ => norm.init(outer_nc, weights, device),
        };
        let dropout = (dropout && role == UnetRole::MiddleWithDropout)
            .then(|| DropoutConfig::new(0.5).init());
        Self {
            down_conv,
            down_norm,
            up_conv,
            up_norm,
            dropout,
            role,
        }
    }
}

/// The U-Net generator (pix2pix's default, available to CycleGAN as `unet_128`/`unet_256`).
#[derive(Module, Debug)]
pub struct UnetGenerator {
    /// The levels, outermost first.
    pub blocks: Vec<UnetBlock>,
    /// Input channels.
    pub input_nc: usize,
    /// Output channels.
    pub output_nc: usize,
}

impl UnetGenerator {
    /// Translates `[N, input_nc, H, W]` to `[N, output_nc, H, W]`, values in (-1, 1).
    /// `H` and `W` must be multiples of `2^num_downs`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        on_pool_thread(&x.device(), || self.level(0, x))
    }

    fn level(&self, index: usize, x: Tensor<4>) -> Tensor<4> {
        let block = &self.blocks[index];
        match block.role {
            UnetRole::Outermost => {
                let y = conv2d(&block.down_conv, x);
                let y = self.level(index + 1, y);
                activate(
                    conv_transpose2d(&block.up_conv, activate(y, Activation::Relu)),
                    Activation::Tanh,
                )
            }
            UnetRole::Innermost => {
                let y = conv2d(&block.down_conv, leaky_relu(x.clone(), LEAKY_SLOPE));
                let y = block.up_norm.forward(conv_transpose2d(
                    &block.up_conv,
                    activate(y, Activation::Relu),
                ));
                Tensor::cat(vec![x, y], 1)
            }
            UnetRole::Middle | UnetRole::MiddleWithDropout => {
                let y = block
                    .down_norm
                    .forward(conv2d(&block.down_conv, leaky_relu(x.clone(), LEAKY_SLOPE)));
                let y = self.level(index + 1, y);
                let mut y = block.up_norm.forward(conv_transpose2d(
                    &block.up_conv,
                    activate(y, Activation::Relu),
                ));
                if let Some(dropout) = &block.dropout {
                    y = dropout.forward(y);
                }
                Tensor::cat(vec![x, y], 1)
            }
        }
    }

    /// The number of downsamplings.
    pub fn num_downs(&self) -> usize {
        self.blocks.len()
    }

    /// [`forward`](Self::forward) after [`check_input`](Self::check_input).
    pub fn try_forward(&self, x: Tensor<4>) -> Result<Tensor<4>, CycleGanError> {
        self.check_input(x.dims())?;
        Ok(self.forward(x))
    }

    /// Checks the channel count and that height and width are multiples of `2^num_downs`.
    pub fn check_input(&self, shape: [usize; 4]) -> Result<(), CycleGanError> {
        check_channels(shape, self.input_nc)?;
        let multiple = 1usize << self.num_downs();
        let [_, _, h, w] = shape;
        if h == 0 || w == 0 || h % multiple != 0 || w % multiple != 0 {
            return Err(CycleGanError::InvalidInputShape {
                shape,
                reason: format!(
                    "a U-Net with {} downsamplings needs height and width that are multiples of {multiple}",
                    self.num_downs()
                ),
            });
        }
        Ok(())
    }
}

super::network::impl_network!(UnetGenerator, |self| 1 << self.num_downs());
