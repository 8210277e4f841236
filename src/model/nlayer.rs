//! The PatchGAN discriminator, `NLayerDiscriminator` (`basic` = 3 layers, the 70×70
//! PatchGAN; `n_layers`).
//!
//! PatchGAN, read top to bottom (`n_layers = 3`, official indices):
//!
//! | layers | official index |
//! |---|---|
//! | conv 4×4 s2 p1 `input_nc → ndf` (bias, no norm), LeakyReLU 0.2 | `model.0` |
//! | conv 4×4 s2 p1, norm, LeakyReLU 0.2, ×(n_layers − 1), channels ×2 capped at 8·ndf | `model.2`, `model.5` |
//! | conv 4×4 **s1** p1, norm, LeakyReLU 0.2 | `model.8` |
//! | conv 4×4 s1 p1 → 1 channel (bias) | `model.11` |
//!
//! With `antialias` (CUT's default, `not --no_antialias`), each stride-2 conv becomes a
//! stride-1 conv whose activation is followed by a blur downsample
//! ([`super::antialias::blur_downsample`]), as the official CUT `NLayerDiscriminator` builds
//! it: `model.0` conv, `model.2` blur, then conv / norm / LeakyReLU / blur at
//! `model.{3 + 4j}` …, the stride-1 layer and the last conv at `model.{4n − 1}` and
//! `model.{4n + 2}`. The blurs carry their fixed filters as `model.{2 + 4j}.filt` buffers.

use burn::nn::conv::Conv2d;
use burn::prelude::*;

use super::antialias::blur_downsample;
use super::init::{InitType, WeightInit, random_seed};
use super::layers::{ConvNorm, LEAKY, LEAKY_SLOPE, check_channels};
use super::norm::Norm;
use crate::error::CycleGanError;
use crate::kernels::{conv2d, leaky_relu, on_pool_thread};

/// Configuration of an [`NLayerDiscriminator`]. `NLayerDiscriminatorConfig::new(3)` is the
/// official `basic` discriminator.
#[derive(Config, Debug)]
pub struct NLayerDiscriminatorConfig {
    /// Channels of the images it judges (`--output_nc` for D_A, `--input_nc` for D_B).
    pub input_nc: usize,
    /// Filters of the first conv layer (`--ndf`). Default: 64.
    #[config(default = 64)]
    pub ndf: usize,
    /// Stride-2 conv layers (`--n_layers_D`); 3 is `basic`. Default: 3.
    #[config(default = 3)]
    pub n_layers: usize,
    /// Normalisation. Default: instance norm without affine parameters.
    #[config(default = "Norm::Instance")]
    pub norm: Norm,
    /// Weight initialisation. Default: normal.
    #[config(default = "InitType::Normal")]
    pub init_type: InitType,
    /// Scale of the initialisation. Default: 0.02.
    #[config(default = 0.02)]
    pub init_gain: f64,
    /// Downsample with stride-1 convs and blur pooling, as the official CUT does by
    /// default (its `--no_antialias` turns it off); CycleGAN's discriminator has stride-2
    /// convs. Default: false.
    #[config(default = false)]
    pub antialias: bool,
}

impl NLayerDiscriminatorConfig {
    /// Builds the discriminator with weights from a fresh random seed.
    pub fn init(&self, device: &Device) -> NLayerDiscriminator {
        self.init_seeded(device, random_seed())
    }

    /// Builds the discriminator with weights drawn from `seed`.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> NLayerDiscriminator {
        let mut weights = WeightInit::new(self.init_type, self.init_gain, seed);
        let bias = self.norm.conv_bias();
        let ndf = self.ndf;
        let down_stride = if self.antialias { 1 } else { 2 };
        let first = weights.conv2d(self.input_nc, ndf, 4, down_stride, 1, true, device);
        let mut layers = Vec::with_capacity(self.n_layers);
        let mut mult = 1;
        for n in 1..=self.n_layers {
            let prev = mult;
            mult = (1usize << n.min(3)).min(8);
            let stride = if n < self.n_layers { down_stride } else { 1 };
            layers.push(ConvNorm {
                conv: weights.conv2d(ndf * prev, ndf * mult, 4, stride, 1, bias, device),
                norm: self.norm.init(ndf * mult, &mut weights, device),
            });
        }
        if self.n_layers == 0 {
            // The official loop still appends the stride-1 conv at 2^0 = 1 × ndf.
            layers.push(ConvNorm {
                conv: weights.conv2d(ndf, ndf, 4, 1, 1, bias, device),
                norm: self.norm.init(ndf, &mut weights, device),
            });
        }
        let last = weights.conv2d(ndf * mult, 1, 4, 1, 1, true, device);
        NLayerDiscriminator {
            first,
            layers,
            last,
            input_nc: self.input_nc,
            antialias: self.antialias,
        }
    }
}

/// The PatchGAN discriminator: a map of real/fake scores, one per overlapping image patch
/// (70×70 pixels for `n_layers = 3`). Outputs raw scores (no sigmoid).
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use cyclegan_burn::prelude::*;
/// let device = backend::cpu();
/// let d = NLayerDiscriminatorConfig::new(3).with_ndf(8).init_seeded(&device, 0);
/// assert_eq!(d.forward(Tensor::zeros([1, 3, 64, 64], &device)).dims(), [1, 1, 6, 6]);
/// # }
/// ```
#[derive(Module, Debug)]
pub struct NLayerDiscriminator {
    /// First conv (no norm).
    pub first: Conv2d,
    /// The normalised conv layers: `n_layers − 1` with stride 2, then one with stride 1.
    pub layers: Vec<ConvNorm>,
    /// Final conv to one channel.
    pub last: Conv2d,
    /// Input channels.
    pub input_nc: usize,
    /// Blur pooling after the first conv and each downsampling layer (CUT's layout).
    pub antialias: bool,
}

impl NLayerDiscriminator {
    /// Scores `[N, input_nc, H, W]` as `[N, 1, h, w]` patch scores.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        on_pool_thread(&x.device(), || {
            let mut x = leaky_relu(conv2d(&self.first, x), LEAKY_SLOPE);
            if self.antialias {
                x = blur_downsample(x);
            }
            for (j, layer) in self.layers.iter().enumerate() {
                x = layer.forward_activated(x, LEAKY);
                if self.antialias && j + 1 < self.layers.len() {
                    x = blur_downsample(x);
                }
            }
            conv2d(&self.last, x)
        })
    }

    /// [`forward`](Self::forward) after [`check_input`](Self::check_input).
    pub fn try_forward(&self, x: Tensor<4>) -> Result<Tensor<4>, CycleGanError> {
        self.check_input(x.dims())?;
        Ok(self.forward(x))
    }

    /// The `[h, w]` of the score map for an input of `height × width`, or `None` when the
    /// input is too small to leave at least one score.
    pub fn output_size(&self, height: usize, width: usize) -> Option<[usize; 2]> {
        // A 4×4 conv with padding 1 needs at least 2 pixels and gives floor((s − 2)/stride) + 1.
        let conv = |s: usize, stride: usize| (s >= 2).then(|| (s - 2) / stride + 1);
        // The blur reflect-pads by 1 (at least 2 pixels) and halves, rounding up.
        let blur = |s: usize| -> Option<usize> {
            if !self.antialias {
                return Some(s);
            }
            (s >= 2).then(|| s.div_ceil(2))
        };
        let side = |s: usize| -> Option<usize> {
            let mut s = blur(conv(s, self.first.stride[0])?)?;
            for (j, layer) in self.layers.iter().enumerate() {
                s = conv(s, layer.conv.stride[0])?;
                if j + 1 < self.layers.len() {
                    s = blur(s)?;
                }
            }
            conv(s, 1)
        };
        Some([side(height)?, side(width)?])
    }

    /// Checks the channel count and that the input leaves a score map of at least 1×1.
    pub fn check_input(&self, shape: [usize; 4]) -> Result<(), CycleGanError> {
        check_channels(shape, self.input_nc)?;
        if self.output_size(shape[2], shape[3]).is_none() {
            return Err(CycleGanError::InvalidInputShape {
                shape,
                reason: format!(
                    "a PatchGAN with {} layers leaves no output patch at this size",
                    self.layers.len()
                ),
            });
        }
        Ok(())
    }
}

super::network::impl_network!(NLayerDiscriminator, |self| 1);
