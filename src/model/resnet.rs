//! The ResNet generator (CycleGAN's default, `resnet_9blocks` / `resnet_6blocks`), as in
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
//!
//! CUT's generator (the official `taesungp/contrastive-unpaired-translation`) is the same
//! network with anti-aliased resampling, chosen by `antialias` and `antialias_up` (its
//! defaults; `--no_antialias` / `--no_antialias_up` turn them off): each down stage is a
//! **stride-1** 3×3 conv, norm, ReLU, then a blur downsample
//! ([`super::antialias::blur_downsample`]; official `model.4`–`model.11`), and each up stage a
//! fixed-filter upsample ([`super::antialias::blur_upsample`]) then a 3×3 stride-1 conv with
//! zero padding, norm, ReLU. The parameter shapes are the same but for the up convs
//! (`[out, in, 3, 3]` instead of a transposed conv's `[in, out, 3, 3]`); the blurs carry
//! their fixed filters as `filt` buffers in the official state dict.

use burn::nn::conv::Conv2d;
use burn::nn::{Dropout, DropoutConfig};
use burn::prelude::*;

use super::antialias::{blur_downsample, blur_upsample};
use super::init::{InitType, WeightInit, random_seed};
use super::layers::{ConvNorm, ConvTransposeNorm, check_channels};
use super::norm::{Norm, NormLayer};
use super::padding::{PaddingType, pad2d, reflect_pad2d};
use crate::error::CycleGanError;
use crate::kernels::{Activation, activate, conv_transpose2d, conv2d, on_pool_thread};

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
    /// Downsample with stride-1 convs and blur pooling, as the official CUT does by default
    /// (its `--no_antialias` turns it off); CycleGAN's generator has stride-2 convs.
    /// Default: false.
    #[config(default = false)]
    pub antialias: bool,
    /// Upsample with a fixed filter and a stride-1 conv, as the official CUT does by default
    /// (its `--no_antialias_up` turns it off); CycleGAN's generator has transposed convs.
    /// Default: false.
    #[config(default = false)]
    pub antialias_up: bool,
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

    /// The output channels of each official module `model.N`, in order (the length is the
    /// number of modules): the indices [`ResnetGenerator::forward_features`] takes, with the
    /// channels of the features it returns for them (CUT's netF is sized from these).
    ///
    /// ```
    /// use cyclegan_burn::prelude::*;
    /// let channels = ResnetGeneratorConfig::new(3, 3).with_antialias(true).with_antialias_up(true)
    ///     .module_channels();
    /// assert_eq!(channels.len(), 32);
    /// assert_eq!([0, 4, 8, 12, 16].map(|n| channels[n]), [3, 128, 256, 256, 256]);
    /// ```
    pub fn module_channels(&self) -> Vec<usize> {
        let ngf = self.ngf;
        let mut channels = vec![self.input_nc, ngf, ngf, ngf];
        let per_down = if self.antialias { 4 } else { 3 };
        for i in 0..2 {
            channels.extend(std::iter::repeat_n(ngf << (i + 1), per_down));
        }
        channels.extend(std::iter::repeat_n(ngf * 4, self.n_blocks));
        for i in 0..2 {
            let (cin, cout) = ((ngf * 4) >> i, (ngf * 2) >> i);
            if self.antialias_up {
                channels.extend([cin, cout, cout, cout]);
            } else {
                channels.extend([cout, cout, cout]);
            }
        }
        channels.extend([ngf, self.output_nc, self.output_nc]);
        channels
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
        let down_stride = if self.antialias { 1 } else { 2 };
        let down = (0..2)
            .map(|i| {
                let cin = ngf << i;
                ConvNorm {
                    conv: weights.conv2d(cin, cin * 2, 3, down_stride, 1, bias, device),
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
        let (mut up, mut up_resampled) = (Vec::new(), Vec::new());
        for i in 0..2 {
            let cin = channels >> i;
            let norm = |weights: &mut WeightInit| self.norm.init(cin / 2, weights, device);
            if self.antialias_up {
                let conv = weights.conv2d(cin, cin / 2, 3, 1, 1, bias, device);
                let norm = norm(&mut weights);
                up_resampled.push(ConvNorm { conv, norm });
            } else {
                let conv = weights.conv_transpose2d(cin, cin / 2, 3, 2, 1, 1, bias, device);
                let norm = norm(&mut weights);
                up.push(ConvTransposeNorm { conv, norm });
            }
        }
        let head = weights.conv2d(ngf, self.output_nc, 7, 1, 0, true, device);
        ResnetGenerator {
            stem,
            down,
            blocks,
            up,
            up_resampled,
            head,
            input_nc: self.input_nc,
            output_nc: self.output_nc,
            antialias: self.antialias,
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
        self.norm2
            .forward_residual(conv2d(&self.conv2, pad2d(y, 1, self.padding)), x)
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
    /// Two stride-2 transposed convs with norm (then ReLU); empty with `antialias_up`.
    pub up: Vec<ConvTransposeNorm>,
    /// With `antialias_up`: two 3×3 stride-1 convs with norm (then ReLU), each after a
    /// fixed-filter upsample; empty otherwise.
    pub up_resampled: Vec<ConvNorm>,
    /// Reflect-pad 3, conv 7×7 (then tanh).
    pub head: Conv2d,
    /// Input channels.
    pub input_nc: usize,
    /// Output channels.
    pub output_nc: usize,
    /// A blur downsample after each down stage, whose convs have stride 1 (CUT's layout).
    pub antialias: bool,
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
        on_pool_thread(&x.device(), || self.forward_here(x))
    }

    /// [`forward`](Self::forward) on the calling thread.
    fn forward_here(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = self.stem.forward_relu(reflect_pad2d(x, 3));
        for down in &self.down {
            x = down.forward_relu(x);
            if self.antialias {
                x = blur_downsample(x);
            }
        }
        for block in &self.blocks {
            x = block.forward(x);
        }
        for up in &self.up {
            x = up.forward_relu(x);
        }
        for up in &self.up_resampled {
            x = up.forward_relu(blur_upsample(x));
        }
        activate(conv2d(&self.head, reflect_pad2d(x, 3)), Activation::Tanh)
    }

    /// The outputs of the official modules `model.N` for each `N` in `layers`, in increasing
    /// order of `N`, as the official CUT `forward(input, layers, encode_only=True)` returns
    /// them: nothing past the last one is computed. Indices count the official flat list of
    /// modules (pads, convs, norms and ReLUs each one; a residual block one; CUT's blurs one),
    /// so CUT's taps `0, 4, 8, 12, 16` are the padded input, the two down convs' outputs
    /// (before their norm) and the outputs of the first and fifth residual blocks. A norm's
    /// index gives the norm's output here; the official code's in-place ReLUs overwrite the
    /// feature it keeps for a norm with the ReLU's (CUT never taps a norm).
    ///
    /// ```
    /// # #[cfg(feature = "flex")] {
    /// use cyclegan_burn::prelude::*;
    /// let device = backend::cpu();
    /// let g = ResnetGeneratorConfig::new(3, 3)
    ///     .with_ngf(4)
    ///     .with_antialias(true)
    ///     .with_antialias_up(true)
    ///     .init_seeded(&device, 0);
    /// let taps = g.forward_features(Tensor::zeros([1, 3, 64, 64], &device), &[0, 4, 8, 12, 16]);
    /// let shapes: Vec<_> = taps.iter().map(|t| t.dims()).collect();
    /// assert_eq!(
    ///     shapes,
    ///     [[1, 3, 70, 70], [1, 8, 64, 64], [1, 16, 32, 32], [1, 16, 16, 16], [1, 16, 16, 16]]
    /// );
    /// # }
    /// ```
    pub fn forward_features(&self, x: Tensor<4>, layers: &[usize]) -> Vec<Tensor<4>> {
        let Some(&last) = layers.iter().max() else {
            return Vec::new();
        };
        on_pool_thread(&x.device(), || {
            let relu = |x| activate(x, Activation::Relu);
            let mut steps: Vec<Box<dyn Fn(Tensor<4>) -> Tensor<4> + '_>> = vec![
                Box::new(|x| reflect_pad2d(x, 3)),
                Box::new(|x| conv2d(&self.stem.conv, x)),
                Box::new(|x| self.stem.norm.forward(x)),
                Box::new(relu),
            ];
            for down in &self.down {
                steps.push(Box::new(|x| conv2d(&down.conv, x)));
                steps.push(Box::new(|x| down.norm.forward(x)));
                steps.push(Box::new(relu));
                if self.antialias {
                    steps.push(Box::new(blur_downsample));
                }
            }
            for block in &self.blocks {
                steps.push(Box::new(|x| block.forward(x)));
            }
            for up in &self.up {
                steps.push(Box::new(|x| conv_transpose2d(&up.conv, x)));
                steps.push(Box::new(|x| up.norm.forward(x)));
                steps.push(Box::new(relu));
            }
            for up in &self.up_resampled {
                steps.push(Box::new(blur_upsample));
                steps.push(Box::new(|x| conv2d(&up.conv, x)));
                steps.push(Box::new(|x| up.norm.forward(x)));
                steps.push(Box::new(relu));
            }
            steps.push(Box::new(|x| reflect_pad2d(x, 3)));
            steps.push(Box::new(|x| conv2d(&self.head, x)));
            steps.push(Box::new(|x| activate(x, Activation::Tanh)));
            let mut taps = Vec::with_capacity(layers.len());
            let mut x = x;
            for (index, step) in steps.iter().enumerate().take(last + 1) {
                x = step(x);
                if layers.contains(&index) {
                    taps.push(x.clone());
                }
            }
            taps
        })
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

// Output sides are the input's rounded up to multiples of 4: inputs of such sides come out
// at their own size.
super::network::impl_network!(ResnetGenerator, |self| 4);
