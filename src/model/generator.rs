//! Generators: the ResNet generator (CycleGAN's default, `resnet_9blocks` / `resnet_6blocks`)
//! and the U-Net generator (`unet_256` / `unet_128`), as in
//! `junyanz/pytorch-CycleGAN-and-pix2pix/models/networks.py`.
//!
//! ResNet generator (Johnson et al. 2016), read top to bottom:
//!
//! | stage | layers | official index |
//! |---|---|---|
//! | stem | reflect-pad 3, conv 7×7 `input_nc → ngf`, norm, ReLU | `model.1`, `model.2` |
//! | down ×2 | conv 3×3 stride 2, **zero** pad 1, norm, ReLU (`ngf → 2ngf → 4ngf`) | `model.4`, `model.7` |
//! | blocks ×n | `x + [pad 1, conv 3×3, norm, ReLU, (dropout), pad 1, conv 3×3, norm](x)` | `model.10 …` |
//! | up ×2 | conv-transpose 3×3 stride 2, pad 1, output pad 1, norm, ReLU | `model.{10+n}`, `model.{13+n}` |
//! | head | reflect-pad 3, conv 7×7 `ngf → output_nc` (always biased), tanh | `model.{17+n}` |
//!
//! Convolutions followed by a norm carry a bias exactly when the norm is an instance norm.

use burn::nn::conv::{Conv2d, ConvTranspose2d};

use super::conv::{conv_transpose2d, conv2d};
use burn::nn::{Dropout, DropoutConfig};
use burn::prelude::*;
use burn::tensor::activation::tanh;

use super::activation::{Activation, activate, leaky_relu};
use super::init::{InitType, WeightInit, random_seed};
use super::norm::{Norm, NormLayer};
use super::padding::{PaddingType, pad2d, reflect_pad2d};
use crate::error::CycleGanError;

/// The slope of the U-Net encoder's LeakyReLUs (`nn.LeakyReLU(0.2, True)`).
const SLOPE: f64 = 0.2;

/// A convolution followed by a norm layer (the activation is applied by the owner).
#[derive(Module, Debug)]
pub struct ConvNorm {
    /// The convolution.
    pub conv: Conv2d,
    /// The norm layer after it.
    pub norm: NormLayer,
}

impl ConvNorm {
    /// `norm(conv(x))`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm.forward(conv2d(&self.conv, x))
    }

    /// `relu(norm(conv(x)))`, the norm and ReLU as one operation where they can be
    /// ([`NormLayer::forward_relu`]).
    pub fn forward_relu(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm.forward_relu(conv2d(&self.conv, x))
    }

    /// `activation(norm(conv(x)))`, the norm and activation as one operation where they
    /// can be ([`NormLayer::forward_activated`]).
    pub fn forward_activated(&self, x: Tensor<4>, activation: Activation) -> Tensor<4> {
        self.norm
            .forward_activated(conv2d(&self.conv, x), activation)
    }
}

/// A transposed convolution followed by a norm layer.
#[derive(Module, Debug)]
pub struct ConvTransposeNorm {
    /// The transposed convolution.
    pub conv: ConvTranspose2d,
    /// The norm layer after it.
    pub norm: NormLayer,
}

impl ConvTransposeNorm {
    /// `norm(conv_transpose(x))`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm.forward(conv_transpose2d(&self.conv, x))
    }

    /// `relu(norm(conv_transpose(x)))` (see [`ConvNorm::forward_relu`]).
    pub fn forward_relu(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm.forward_relu(conv_transpose2d(&self.conv, x))
    }
}

pub(crate) fn check_channels(shape: [usize; 4], expected: usize) -> Result<(), CycleGanError> {
    if shape[1] != expected {
        return Err(CycleGanError::ChannelMismatch {
            expected,
            found: shape[1],
        });
    }
    if shape[0] == 0 {
        return Err(CycleGanError::InvalidInputShape {
            shape,
            reason: "the batch is empty".into(),
        });
    }
    Ok(())
}

/// Configuration of a [`ResnetGenerator`]. `ResnetGeneratorConfig::new(3, 3)` is the official
/// `resnet_9blocks` with instance norm and no dropout.
#[derive(Config, Debug)]
pub struct ResnetGeneratorConfig {
    /// Channels of the input images (`--input_nc`).
    pub input_nc: usize,
    /// Channels of the output images (`--output_nc`).
    pub output_nc: usize,
    /// Filters of the first conv layer (`--ngf`). Default: 64.
    #[config(default = 64)]
    pub ngf: usize,
    /// Residual blocks: 9 for `resnet_9blocks`, 6 for `resnet_6blocks`. Default: 9.
    #[config(default = 9)]
    pub n_blocks: usize,
    /// Normalisation (`--norm`). Default: instance norm without affine parameters.
    #[config(default = "Norm::Instance")]
    pub norm: Norm,
    /// Dropout 0.5 between the two convs of each block (official `not --no_dropout`;
    /// CycleGAN's default is off). Default: false.
    #[config(default = false)]
    pub dropout: bool,
    /// Padding inside the residual blocks. Default: reflect.
    #[config(default = "PaddingType::Reflect")]
    pub padding: PaddingType,
    /// Weight initialisation (`--init_type`). Default: normal.
    #[config(default = "InitType::Normal")]
    pub init_type: InitType,
    /// Scale of the initialisation (`--init_gain`). Default: 0.02.
    #[config(default = 0.02)]
    pub init_gain: f64,
}

impl ResnetGeneratorConfig {
    /// The official `resnet_6blocks`.
    pub fn resnet_6blocks(input_nc: usize, output_nc: usize) -> Self {
        Self::new(input_nc, output_nc).with_n_blocks(6)
    }

    /// The official `resnet_9blocks` (CycleGAN's default).
    pub fn resnet_9blocks(input_nc: usize, output_nc: usize) -> Self {
        Self::new(input_nc, output_nc).with_n_blocks(9)
    }

    /// Builds the generator with weights initialised from a fresh random seed.
    pub fn init(&self, device: &Device) -> ResnetGenerator {
        self.init_seeded(device, random_seed())
    }

    /// Builds the generator with weights drawn from `seed`: the same seed gives the same
    /// weights on every backend.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> ResnetGenerator {
        let mut weights = WeightInit::new(self.init_type, self.init_gain, seed);
        let bias = self.norm.conv_bias();
        let ngf = self.ngf;
        let stem = ConvNorm {
            conv: weights.conv2d(self.input_nc, ngf, 7, 1, 0, bias, device),
            norm: self.norm.init(ngf, &mut weights, device),
        };
        let down = (0..2)
            .map(|i| {
                let cin = ngf << i;
                ConvNorm {
                    conv: weights.conv2d(cin, cin * 2, 3, 2, 1, bias, device),
                    norm: self.norm.init(cin * 2, &mut weights, device),
                }
            })
            .collect();
        let channels = ngf * 4;
        let blocks = (0..self.n_blocks)
            .map(|_| {
                ResnetBlock::new(
                    channels,
                    self.norm,
                    self.dropout,
                    self.padding,
                    &mut weights,
                    device,
                )
            })
            .collect();
        let up = (0..2)
            .map(|i| {
                let cin = channels >> i;
                ConvTransposeNorm {
                    conv: weights.conv_transpose2d(cin, cin / 2, 3, 2, 1, 1, bias, device),
                    norm: self.norm.init(cin / 2, &mut weights, device),
                }
            })
            .collect();
        let head = weights.conv2d(ngf, self.output_nc, 7, 1, 0, true, device);
        ResnetGenerator {
            stem,
            down,
            blocks,
            up,
            head,
            input_nc: self.input_nc,
            output_nc: self.output_nc,
        }
    }
}

/// A residual block: `x + conv_block(x)`.
#[derive(Module, Debug)]
pub struct ResnetBlock {
    /// First 3×3 conv.
    pub conv1: Conv2d,
    /// Norm after the first conv.
    pub norm1: NormLayer,
    /// Dropout 0.5 after the first ReLU, when enabled.
    pub dropout: Option<Dropout>,
    /// Second 3×3 conv.
    pub conv2: Conv2d,
    /// Norm after the second conv.
    pub norm2: NormLayer,
    /// Padding before each conv.
    #[module(skip)]
    pub padding: PaddingType,
}

impl ResnetBlock {
    /// A block over `channels` channels.
    pub fn new(
        channels: usize,
        norm: Norm,
        dropout: bool,
        padding: PaddingType,
        weights: &mut WeightInit,
        device: &Device,
    ) -> Self {
        let conv_pad = padding.conv_padding(1);
        let bias = norm.conv_bias();
        let conv1 = weights.conv2d(channels, channels, 3, 1, conv_pad, bias, device);
        let norm1 = norm.init(channels, weights, device);
        let conv2 = weights.conv2d(channels, channels, 3, 1, conv_pad, bias, device);
        let norm2 = norm.init(channels, weights, device);
        Self {
            conv1,
            norm1,
            dropout: dropout.then(|| DropoutConfig::new(0.5).init()),
            conv2,
            norm2,
            padding,
        }
    }

    /// `x + norm2(conv2(pad(dropout(relu(norm1(conv1(pad(x))))))))`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = conv2d(&self.conv1, pad2d(x.clone(), 1, self.padding));
        let mut y = self.norm1.forward_relu(y);
        if let Some(dropout) = &self.dropout {
            y = dropout.forward(y);
        }
        let y = self
            .norm2
            .forward(conv2d(&self.conv2, pad2d(y, 1, self.padding)));
        x + y
    }
}

/// The ResNet-based generator of CycleGAN. Built with [`ResnetGeneratorConfig`].
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use cyclegan_burn::prelude::*;
/// let device = backend::cpu();
/// let g = ResnetGeneratorConfig::new(3, 3).with_ngf(8).with_n_blocks(2).init_seeded(&device, 0);
/// let y = g.forward(Tensor::zeros([1, 3, 32, 32], &device));
/// assert_eq!(y.dims(), [1, 3, 32, 32]);
/// # }
/// ```
#[derive(Module, Debug)]
pub struct ResnetGenerator {
    /// Reflect-pad 3, conv 7×7, norm (then ReLU).
    pub stem: ConvNorm,
    /// Two stride-2 downsampling convs with norm (then ReLU).
    pub down: Vec<ConvNorm>,
    /// The residual blocks.
    pub blocks: Vec<ResnetBlock>,
    /// Two stride-2 transposed convs with norm (then ReLU).
    pub up: Vec<ConvTransposeNorm>,
    /// Reflect-pad 3, conv 7×7 (then tanh).
    pub head: Conv2d,
    /// Input channels.
    pub input_nc: usize,
    /// Output channels.
    pub output_nc: usize,
}

impl ResnetGenerator {
    /// Translates `[N, input_nc, H, W]` to `[N, output_nc, H', W']` with values in (-1, 1).
    /// `H' = 4·ceil(H/4)` (equal to `H` for multiples of 4), likewise `W'`.
    ///
    /// # Panics
    ///
    /// Inside Burn if the input is too small or has the wrong channel count; call
    /// [`check_input`](Self::check_input) or [`try_forward`](Self::try_forward) for an error.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = self.stem.forward_relu(reflect_pad2d(x, 3));
        for down in &self.down {
            x = down.forward_relu(x);
        }
        for block in &self.blocks {
            x = block.forward(x);
        }
        for up in &self.up {
            x = up.forward_relu(x);
        }
        tanh(conv2d(&self.head, reflect_pad2d(x, 3)))
    }

    /// [`forward`](Self::forward) after [`check_input`](Self::check_input).
    pub fn try_forward(&self, x: Tensor<4>) -> Result<Tensor<4>, CycleGanError> {
        self.check_input(x.dims())?;
        Ok(self.forward(x))
    }

    /// Checks that an input of `shape` can be translated: channel count, and a size the
    /// reflection pads accept (at least 4×4 for the 7×7 stem, at least 5×5 when there are
    /// reflect-padded residual blocks).
    pub fn check_input(&self, shape: [usize; 4]) -> Result<(), CycleGanError> {
        check_channels(shape, self.input_nc)?;
        let [_, _, h, w] = shape;
        let mut min: usize = 4;
        if let Some(block) = self.blocks.first() {
            // The blocks see ceil(ceil(H/2)/2) pixels and pad that by 1.
            let needed = block.padding.min_size(1);
            while min.div_ceil(2).div_ceil(2) < needed {
                min += 1;
            }
        }
        if h < min || w < min {
            return Err(CycleGanError::InvalidInputShape {
                shape,
                reason: format!("the ResNet generator needs images of at least {min}x{min} pixels"),
            });
        }
        Ok(())
    }

    /// The output height and width for an input of `height × width`.
    pub fn output_size(height: usize, width: usize) -> [usize; 2] {
        [height.div_ceil(4) * 4, width.div_ceil(4) * 4]
    }
}

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
            return Err(CycleGanError::option(
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
        self.level(0, x)
    }

    fn level(&self, index: usize, x: Tensor<4>) -> Tensor<4> {
        let block = &self.blocks[index];
        match block.role {
            UnetRole::Outermost => {
                let y = conv2d(&block.down_conv, x);
                let y = self.level(index + 1, y);
                tanh(conv_transpose2d(
                    &block.up_conv,
                    activate(y, Activation::Relu),
                ))
            }
            UnetRole::Innermost => {
                let y = conv2d(&block.down_conv, leaky_relu(x.clone(), SLOPE));
                let y = block.up_norm.forward(conv_transpose2d(
                    &block.up_conv,
                    activate(y, Activation::Relu),
                ));
                Tensor::cat(vec![x, y], 1)
            }
            UnetRole::Middle | UnetRole::MiddleWithDropout => {
                let y = block
                    .down_norm
                    .forward(conv2d(&block.down_conv, leaky_relu(x.clone(), SLOPE)));
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
