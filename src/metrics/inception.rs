//! The Inception network of FID, exactly as pytorch-fid builds it (`fid_inception_v3`): the
//! TensorFlow-ported Inception v3 of 2015, whose blocks differ from torchvision's
//! (`FIDInceptionA` and `FIDInceptionC` and the first `FIDInceptionE` average-pool without
//! counting the padding, the second `FIDInceptionE` max-pools), up to the 2048-dimensional
//! average pool ("pool3") that FID and KID compare.
//!
//! Weights come from the file pytorch-fid uses, `pt_inception-2015-12-05-6726825d.pth`, read
//! with its state-dict key names from a path the user gives: the crate never downloads
//! ([`FidInception::load`]). Every convolution is followed by a batch norm (epsilon 1e-3,
//! running statistics) and a ReLU; the norm is folded into the convolution when the weights
//! are loaded (`w · γ/√(σ² + ε)`, bias `β − μ · γ/√(σ² + ε)`, computed in `f64`), so each
//! layer is one convolution with a bias, through the [`kernels`](crate::kernels) layer.
//!
//! Preprocessing is pytorch-fid's: RGB values to [0, 1], a bilinear resize to 299×299 as
//! `F.interpolate(..., mode='bilinear', align_corners=False)` computes it ([`resize_bilinear`]),
//! then to [−1, 1].

use std::path::Path;

use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::prelude::*;
use image::RgbImage;

use crate::error::CycleGanError;
use crate::import::StateDict;
use crate::import::state_dict::read_state_dict;
use crate::kernels::{Activation, activate, box_average3x3, conv2d, max_pool3x3};

/// The file pytorch-fid downloads its weights from (the crate never does; users fetch it).
pub const WEIGHTS_URL: &str = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth";

/// The name of pytorch-fid's weights file.
pub const WEIGHTS_FILE: &str = "pt_inception-2015-12-05-6726825d.pth";

/// The side the images are resized to.
pub const INPUT_SIZE: usize = 299;

/// The dimension of the pool3 features.
pub const FEATURES: usize = 2048;

/// Batch-norm epsilon of every layer.
const BN_EPSILON: f64 = 1e-3;

/// A convolution (batch norm folded in) and a ReLU: torchvision's `BasicConv2d`.
#[derive(Module, Debug)]
pub struct BasicConv {
    conv: Conv2d,
}

impl BasicConv {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        activate(conv2d(&self.conv, x), Activation::Relu)
    }
}

/// `FIDInceptionA`: 1×1, 5×5 and double 3×3 branches and an average-pool branch.
#[derive(Module, Debug)]
pub struct BlockA {
    branch1x1: BasicConv,
    branch5x5_1: BasicConv,
    branch5x5_2: BasicConv,
    branch3x3dbl_1: BasicConv,
    branch3x3dbl_2: BasicConv,
    branch3x3dbl_3: BasicConv,
    branch_pool: BasicConv,
}

/// torchvision's `InceptionB` (`Mixed_6a`): a grid reduction.
#[derive(Module, Debug)]
pub struct BlockB {
    branch3x3: BasicConv,
    branch3x3dbl_1: BasicConv,
    branch3x3dbl_2: BasicConv,
    branch3x3dbl_3: BasicConv,
}

/// `FIDInceptionC`: factorised 7×7 branches.
#[derive(Module, Debug)]
pub struct BlockC {
    branch1x1: BasicConv,
    branch7x7_1: BasicConv,
    branch7x7_2: BasicConv,
    branch7x7_3: BasicConv,
    branch7x7dbl_1: BasicConv,
    branch7x7dbl_2: BasicConv,
    branch7x7dbl_3: BasicConv,
    branch7x7dbl_4: BasicConv,
    branch7x7dbl_5: BasicConv,
    branch_pool: BasicConv,
}

/// torchvision's `InceptionD` (`Mixed_7a`): a grid reduction.
#[derive(Module, Debug)]
pub struct BlockD {
    branch3x3_1: BasicConv,
    branch3x3_2: BasicConv,
    branch7x7x3_1: BasicConv,
    branch7x7x3_2: BasicConv,
    branch7x7x3_3: BasicConv,
    branch7x7x3_4: BasicConv,
}

/// `FIDInceptionE_1` / `FIDInceptionE_2`: expanded filter banks.
#[derive(Module, Debug)]
pub struct BlockE {
    branch1x1: BasicConv,
    branch3x3_1: BasicConv,
    branch3x3_2a: BasicConv,
    branch3x3_2b: BasicConv,
    branch3x3dbl_1: BasicConv,
    branch3x3dbl_2: BasicConv,
    branch3x3dbl_3a: BasicConv,
    branch3x3dbl_3b: BasicConv,
    branch_pool: BasicConv,
}

/// pytorch-fid's Inception v3 up to pool3.
#[derive(Module, Debug)]
pub struct FidInception {
    conv2d_1a: BasicConv,
    conv2d_2a: BasicConv,
    conv2d_2b: BasicConv,
    conv2d_3b: BasicConv,
    conv2d_4a: BasicConv,
    mixed_5b: BlockA,
    mixed_5c: BlockA,
    mixed_5d: BlockA,
    mixed_6a: BlockB,
    mixed_6b: BlockC,
    mixed_6c: BlockC,
    mixed_6d: BlockC,
    mixed_6e: BlockC,
    mixed_7a: BlockD,
    mixed_7b: BlockE,
    mixed_7c: BlockE,
}

/// 3×3 average pooling of stride 1 and padding 1 that does not count the padding
/// (`count_include_pad=False`, the FID blocks' pooling), by the kernels layer.
fn average_pool(x: Tensor<4>) -> Tensor<4> {
    box_average3x3(x)
}

fn max_pool(x: Tensor<4>, stride: usize, padding: usize) -> Tensor<4> {
    max_pool3x3(x, stride, padding)
}

impl BlockA {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b5 = self
            .branch5x5_2
            .forward(self.branch5x5_1.forward(x.clone()));
        let b3 = self.branch3x3dbl_3.forward(
            self.branch3x3dbl_2
                .forward(self.branch3x3dbl_1.forward(x.clone())),
        );
        let pool = self.branch_pool.forward(average_pool(x));
        Tensor::cat(vec![b1, b5, b3, pool], 1)
    }
}

impl BlockB {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b3 = self.branch3x3.forward(x.clone());
        let dbl = self.branch3x3dbl_3.forward(
            self.branch3x3dbl_2
                .forward(self.branch3x3dbl_1.forward(x.clone())),
        );
        Tensor::cat(vec![b3, dbl, max_pool(x, 2, 0)], 1)
    }
}

impl BlockC {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b7 = self.branch7x7_3.forward(
            self.branch7x7_2
                .forward(self.branch7x7_1.forward(x.clone())),
        );
        let mut dbl = self.branch7x7dbl_1.forward(x.clone());
        for layer in [
            &self.branch7x7dbl_2,
            &self.branch7x7dbl_3,
            &self.branch7x7dbl_4,
            &self.branch7x7dbl_5,
        ] {
            dbl = layer.forward(dbl);
        }
        let pool = self.branch_pool.forward(average_pool(x));
        Tensor::cat(vec![b1, b7, dbl, pool], 1)
    }
}

impl BlockD {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let b3 = self
            .branch3x3_2
            .forward(self.branch3x3_1.forward(x.clone()));
        let mut b7 = self.branch7x7x3_1.forward(x.clone());
        for layer in [
            &self.branch7x7x3_2,
            &self.branch7x7x3_3,
            &self.branch7x7x3_4,
        ] {
            b7 = layer.forward(b7);
        }
        Tensor::cat(vec![b3, b7, max_pool(x, 2, 0)], 1)
    }
}

impl BlockE {
    /// `max_pooled`: the second block (`FIDInceptionE_2`) max-pools its pool branch.
    fn forward(&self, x: Tensor<4>, max_pooled: bool) -> Tensor<4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b3 = self.branch3x3_1.forward(x.clone());
        let b3 = Tensor::cat(
            vec![
                self.branch3x3_2a.forward(b3.clone()),
                self.branch3x3_2b.forward(b3),
            ],
            1,
        );
        let dbl = self
            .branch3x3dbl_2
            .forward(self.branch3x3dbl_1.forward(x.clone()));
        let dbl = Tensor::cat(
            vec![
                self.branch3x3dbl_3a.forward(dbl.clone()),
                self.branch3x3dbl_3b.forward(dbl),
            ],
            1,
        );
        let pooled = if max_pooled {
            max_pool(x, 1, 1)
        } else {
            average_pool(x)
        };
        let pool = self.branch_pool.forward(pooled);
        Tensor::cat(vec![b1, b3, dbl, pool], 1)
    }
}

impl FidInception {
    /// The pool3 features, `[N, 2048]`, of images already preprocessed to `[N, 3, 299, 299]`
    /// in [−1, 1] (any size works; pytorch-fid always resizes to 299).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        crate::kernels::on_pool_thread(&x.device(), || self.forward_here(x))
    }

    /// [`forward`](Self::forward) on the calling thread.
    fn forward_here(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.conv2d_1a.forward(x);
        let x = self.conv2d_2a.forward(x);
        let x = self.conv2d_2b.forward(x);
        let x = max_pool(x, 2, 0);
        let x = self.conv2d_3b.forward(x);
        let x = self.conv2d_4a.forward(x);
        let x = max_pool(x, 2, 0);
        let x = self.mixed_5b.forward(x);
        let x = self.mixed_5c.forward(x);
        let x = self.mixed_5d.forward(x);
        let x = self.mixed_6a.forward(x);
        let x = self.mixed_6b.forward(x);
        let x = self.mixed_6c.forward(x);
        let x = self.mixed_6d.forward(x);
        let x = self.mixed_6e.forward(x);
        let x = self.mixed_7a.forward(x);
        let x = self.mixed_7b.forward(x, false);
        let x = self.mixed_7c.forward(x, true);
        let [n, c, h, w] = x.dims();
        x.reshape([n, c, h * w]).mean_dim(2).reshape([n, c])
    }

    /// pool3 features of RGB images of any sizes, with pytorch-fid's preprocessing:
    /// `[images.len(), 2048]` values, row-major. Images are processed `batch_size` at a time.
    pub fn features(
        &self,
        images: &[RgbImage],
        batch_size: usize,
        device: &Device,
    ) -> Result<Vec<f32>, CycleGanError> {
        let mut out = Vec::with_capacity(images.len() * FEATURES);
        for batch in images.chunks(batch_size.max(1)) {
            let mut values = Vec::with_capacity(batch.len() * 3 * INPUT_SIZE * INPUT_SIZE);
            for image in batch {
                values.extend(preprocess(image));
            }
            let x = Tensor::<4>::from_data(
                TensorData::new(values, [batch.len(), 3, INPUT_SIZE, INPUT_SIZE]),
                device,
            );
            let features = self.forward(x).into_data().convert::<f32>();
            out.extend(
                features
                    .try_to_vec::<f32>()
                    .map_err(|e| CycleGanError::TensorData {
                        message: format!("{e:?}"),
                    })?,
            );
        }
        Ok(out)
    }

    /// pytorch-fid's network with the weights of `path` (its `pt_inception-2015-12-05-6726825d.pth`,
    /// or the same state dict as `.safetensors`), on `device`.
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<Self, CycleGanError> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(CycleGanError::checkpoint(
                path,
                format!(
                    "not found: FID needs pytorch-fid's Inception weights, {WEIGHTS_FILE}; download it once from {WEIGHTS_URL} (the crate never downloads)"
                ),
            ));
        }
        let dict = read_state_dict(path)?;
        Self::from_state_dict(&dict, path, device)
    }

    /// The network from a state dict with pytorch-fid's key names (`Conv2d_1a_3x3.conv.weight`,
    /// `Mixed_5b.branch1x1.bn.running_var`, ...); `path` names it in errors. Keys the network
    /// does not use (the classifier `fc.*`) are ignored.
    pub fn from_state_dict(
        dict: &StateDict,
        path: &Path,
        device: &Device,
    ) -> Result<Self, CycleGanError> {
        let loader = Loader { dict, path, device };
        let a = |name: &str, input: usize, pool: usize| loader.block_a(name, input, pool);
        let c = |name: &str, c7: usize| loader.block_c(name, c7);
        let e = |name: &str, input: usize| loader.block_e(name, input);
        Ok(Self {
            conv2d_1a: loader.conv("Conv2d_1a_3x3", 3, 32, [3, 3], 2, [0, 0])?,
            conv2d_2a: loader.conv("Conv2d_2a_3x3", 32, 32, [3, 3], 1, [0, 0])?,
            conv2d_2b: loader.conv("Conv2d_2b_3x3", 32, 64, [3, 3], 1, [1, 1])?,
            conv2d_3b: loader.conv("Conv2d_3b_1x1", 64, 80, [1, 1], 1, [0, 0])?,
            conv2d_4a: loader.conv("Conv2d_4a_3x3", 80, 192, [3, 3], 1, [0, 0])?,
            mixed_5b: a("Mixed_5b", 192, 32)?,
            mixed_5c: a("Mixed_5c", 256, 64)?,
            mixed_5d: a("Mixed_5d", 288, 64)?,
            mixed_6a: loader.block_b("Mixed_6a", 288)?,
            mixed_6b: c("Mixed_6b", 128)?,
            mixed_6c: c("Mixed_6c", 160)?,
            mixed_6d: c("Mixed_6d", 160)?,
            mixed_6e: c("Mixed_6e", 192)?,
            mixed_7a: loader.block_d("Mixed_7a", 768)?,
            mixed_7b: e("Mixed_7b", 1280)?,
            mixed_7c: e("Mixed_7c", 2048)?,
        })
    }

    /// Every key the network reads, with its shape (the convolutions' `conv.weight` and the
    /// four batch-norm tensors of each): the layout of pytorch-fid's state dict without the
    /// classifier.
    pub fn state_dict_layout() -> Vec<(String, Vec<usize>)> {
        let layout = std::cell::RefCell::new(Vec::new());
        let recorder = Layout(&layout);
        recorder.network();
        layout.into_inner()
    }
}

/// The layers of the network, in one place: [`Loader`] builds them, [`Layout`] lists their
/// keys.
trait Layers {
    type Conv;
    type Error;

    #[allow(clippy::too_many_arguments)]
    fn conv(
        &self,
        name: &str,
        input: usize,
        output: usize,
        kernel: [usize; 2],
        stride: usize,
        padding: [usize; 2],
    ) -> Result<Self::Conv, Self::Error>;
}

/// The key layout, recorded by "building" every layer.
struct Layout<'a>(&'a std::cell::RefCell<Vec<(String, Vec<usize>)>>);

impl Layers for Layout<'_> {
    type Conv = ();
    type Error = std::convert::Infallible;

    fn conv(
        &self,
        name: &str,
        input: usize,
        output: usize,
        kernel: [usize; 2],
        _stride: usize,
        _padding: [usize; 2],
    ) -> Result<(), Self::Error> {
        let mut layout = self.0.borrow_mut();
        layout.push((
            format!("{name}.conv.weight"),
            vec![output, input, kernel[0], kernel[1]],
        ));
        for leaf in ["weight", "bias", "running_mean", "running_var"] {
            layout.push((format!("{name}.bn.{leaf}"), vec![output]));
        }
        Ok(())
    }
}

impl Layout<'_> {
    fn network(&self) {
        let _ = self.conv("Conv2d_1a_3x3", 3, 32, [3, 3], 2, [0, 0]);
        let _ = self.conv("Conv2d_2a_3x3", 32, 32, [3, 3], 1, [0, 0]);
        let _ = self.conv("Conv2d_2b_3x3", 32, 64, [3, 3], 1, [1, 1]);
        let _ = self.conv("Conv2d_3b_1x1", 64, 80, [1, 1], 1, [0, 0]);
        let _ = self.conv("Conv2d_4a_3x3", 80, 192, [3, 3], 1, [0, 0]);
        for (name, input, pool) in [
            ("Mixed_5b", 192, 32),
            ("Mixed_5c", 256, 64),
            ("Mixed_5d", 288, 64),
        ] {
            let _ = block_a(self, name, input, pool);
        }
        let _ = block_b(self, "Mixed_6a", 288);
        for (name, c7) in [
            ("Mixed_6b", 128),
            ("Mixed_6c", 160),
            ("Mixed_6d", 160),
            ("Mixed_6e", 192),
        ] {
            let _ = block_c(self, name, c7);
        }
        let _ = block_d(self, "Mixed_7a", 768);
        let _ = block_e(self, "Mixed_7b", 1280);
        let _ = block_e(self, "Mixed_7c", 2048);
    }
}

/// The convolutions of an A block: `(branch, input, output, kernel, padding)`, with
/// `input == 0` for the block's input channels.
#[allow(clippy::type_complexity)]
fn block_a<L: Layers>(
    layers: &L,
    name: &str,
    input: usize,
    pool: usize,
) -> Result<[L::Conv; 7], L::Error> {
    let conv = |branch: &str, i: usize, o: usize, k: usize, p: usize| {
        layers.conv(&format!("{name}.{branch}"), i, o, [k, k], 1, [p, p])
    };
    Ok([
        conv("branch1x1", input, 64, 1, 0)?,
        conv("branch5x5_1", input, 48, 1, 0)?,
        conv("branch5x5_2", 48, 64, 5, 2)?,
        conv("branch3x3dbl_1", input, 64, 1, 0)?,
        conv("branch3x3dbl_2", 64, 96, 3, 1)?,
        conv("branch3x3dbl_3", 96, 96, 3, 1)?,
        conv("branch_pool", input, pool, 1, 0)?,
    ])
}

fn block_b<L: Layers>(layers: &L, name: &str, input: usize) -> Result<[L::Conv; 4], L::Error> {
    let conv = |branch: &str, i: usize, o: usize, k: usize, s: usize, p: usize| {
        layers.conv(&format!("{name}.{branch}"), i, o, [k, k], s, [p, p])
    };
    Ok([
        conv("branch3x3", input, 384, 3, 2, 0)?,
        conv("branch3x3dbl_1", input, 64, 1, 1, 0)?,
        conv("branch3x3dbl_2", 64, 96, 3, 1, 1)?,
        conv("branch3x3dbl_3", 96, 96, 3, 2, 0)?,
    ])
}

fn block_c<L: Layers>(layers: &L, name: &str, c7: usize) -> Result<[L::Conv; 10], L::Error> {
    let conv = |branch: &str, i: usize, o: usize, k: [usize; 2], p: [usize; 2]| {
        layers.conv(&format!("{name}.{branch}"), i, o, k, 1, p)
    };
    let (row, column) = (([1, 7], [0, 3]), ([7, 1], [3, 0]));
    Ok([
        conv("branch1x1", 768, 192, [1, 1], [0, 0])?,
        conv("branch7x7_1", 768, c7, [1, 1], [0, 0])?,
        conv("branch7x7_2", c7, c7, row.0, row.1)?,
        conv("branch7x7_3", c7, 192, column.0, column.1)?,
        conv("branch7x7dbl_1", 768, c7, [1, 1], [0, 0])?,
        conv("branch7x7dbl_2", c7, c7, column.0, column.1)?,
        conv("branch7x7dbl_3", c7, c7, row.0, row.1)?,
        conv("branch7x7dbl_4", c7, c7, column.0, column.1)?,
        conv("branch7x7dbl_5", c7, 192, row.0, row.1)?,
        conv("branch_pool", 768, 192, [1, 1], [0, 0])?,
    ])
}

fn block_d<L: Layers>(layers: &L, name: &str, input: usize) -> Result<[L::Conv; 6], L::Error> {
    let conv = |branch: &str, i: usize, o: usize, k: [usize; 2], s: usize, p: [usize; 2]| {
        layers.conv(&format!("{name}.{branch}"), i, o, k, s, p)
    };
    Ok([
        conv("branch3x3_1", input, 192, [1, 1], 1, [0, 0])?,
        conv("branch3x3_2", 192, 320, [3, 3], 2, [0, 0])?,
        conv("branch7x7x3_1", input, 192, [1, 1], 1, [0, 0])?,
        conv("branch7x7x3_2", 192, 192, [1, 7], 1, [0, 3])?,
        conv("branch7x7x3_3", 192, 192, [7, 1], 1, [3, 0])?,
        conv("branch7x7x3_4", 192, 192, [3, 3], 2, [0, 0])?,
    ])
}

fn block_e<L: Layers>(layers: &L, name: &str, input: usize) -> Result<[L::Conv; 9], L::Error> {
    let conv = |branch: &str, i: usize, o: usize, k: [usize; 2], p: [usize; 2]| {
        layers.conv(&format!("{name}.{branch}"), i, o, k, 1, p)
    };
    Ok([
        conv("branch1x1", input, 320, [1, 1], [0, 0])?,
        conv("branch3x3_1", input, 384, [1, 1], [0, 0])?,
        conv("branch3x3_2a", 384, 384, [1, 3], [0, 1])?,
        conv("branch3x3_2b", 384, 384, [3, 1], [1, 0])?,
        conv("branch3x3dbl_1", input, 448, [1, 1], [0, 0])?,
        conv("branch3x3dbl_2", 448, 384, [3, 3], [1, 1])?,
        conv("branch3x3dbl_3a", 384, 384, [1, 3], [0, 1])?,
        conv("branch3x3dbl_3b", 384, 384, [3, 1], [1, 0])?,
        conv("branch_pool", input, 192, [1, 1], [0, 0])?,
    ])
}

/// Builds layers from a state dict.
struct Loader<'a> {
    dict: &'a StateDict,
    path: &'a Path,
    device: &'a Device,
}

impl Layers for Loader<'_> {
    type Conv = BasicConv;
    type Error = CycleGanError;

    fn conv(
        &self,
        name: &str,
        input: usize,
        output: usize,
        [kh, kw]: [usize; 2],
        stride: usize,
        [ph, pw]: [usize; 2],
    ) -> Result<BasicConv, CycleGanError> {
        let tensor = |leaf: &str, shape: Vec<usize>| {
            let key = format!("{name}.{leaf}");
            let tensor = self.dict.get(&key).ok_or_else(|| {
                CycleGanError::checkpoint(
                    self.path,
                    format!(
                        "no `{key}`: this is not pytorch-fid's Inception ({WEIGHTS_FILE}, from {WEIGHTS_URL})"
                    ),
                )
            })?;
            if tensor.shape != shape {
                return Err(CycleGanError::checkpoint(
                    self.path,
                    format!(
                        "`{key}` has shape {:?}, pytorch-fid's Inception has {shape:?}",
                        tensor.shape
                    ),
                ));
            }
            Ok(&tensor.values)
        };
        let weight = tensor("conv.weight", vec![output, input, kh, kw])?;
        let [gamma, beta, mean, var] =
            ["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"]
                .map(|leaf| tensor(leaf, vec![output]));
        let (gamma, beta, mean, var) = (gamma?, beta?, mean?, var?);
        let per_output = input * kh * kw;
        let mut folded = Vec::with_capacity(weight.len());
        let mut bias = Vec::with_capacity(output);
        for o in 0..output {
            let scale = gamma[o] as f64 / (var[o] as f64 + BN_EPSILON).sqrt();
            folded.extend(
                weight[o * per_output..][..per_output]
                    .iter()
                    .map(|&w| (w as f64 * scale) as f32),
            );
            bias.push((beta[o] as f64 - mean[o] as f64 * scale) as f32);
        }
        let mut conv = Conv2dConfig::new([input, output], [kh, kw])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(ph, pw, ph, pw))
            .with_bias(true)
            .init(self.device);
        conv.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(folded, [output, input, kh, kw]),
            self.device,
        ));
        conv.bias = Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(bias, [output]),
            self.device,
        )));
        Ok(BasicConv { conv })
    }
}

impl Loader<'_> {
    fn block_a(&self, name: &str, input: usize, pool: usize) -> Result<BlockA, CycleGanError> {
        let [
            branch1x1,
            branch5x5_1,
            branch5x5_2,
            branch3x3dbl_1,
            branch3x3dbl_2,
            branch3x3dbl_3,
            branch_pool,
        ] = block_a(self, name, input, pool)?;
        Ok(BlockA {
            branch1x1,
            branch5x5_1,
            branch5x5_2,
            branch3x3dbl_1,
            branch3x3dbl_2,
            branch3x3dbl_3,
            branch_pool,
        })
    }

    fn block_b(&self, name: &str, input: usize) -> Result<BlockB, CycleGanError> {
        let [branch3x3, branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3] =
            block_b(self, name, input)?;
        Ok(BlockB {
            branch3x3,
            branch3x3dbl_1,
            branch3x3dbl_2,
            branch3x3dbl_3,
        })
    }

    fn block_c(&self, name: &str, c7: usize) -> Result<BlockC, CycleGanError> {
        let [
            branch1x1,
            branch7x7_1,
            branch7x7_2,
            branch7x7_3,
            branch7x7dbl_1,
            branch7x7dbl_2,
            branch7x7dbl_3,
            branch7x7dbl_4,
            branch7x7dbl_5,
            branch_pool,
        ] = block_c(self, name, c7)?;
        Ok(BlockC {
            branch1x1,
            branch7x7_1,
            branch7x7_2,
            branch7x7_3,
            branch7x7dbl_1,
            branch7x7dbl_2,
            branch7x7dbl_3,
            branch7x7dbl_4,
            branch7x7dbl_5,
            branch_pool,
        })
    }

    fn block_d(&self, name: &str, input: usize) -> Result<BlockD, CycleGanError> {
        let [
            branch3x3_1,
            branch3x3_2,
            branch7x7x3_1,
            branch7x7x3_2,
            branch7x7x3_3,
            branch7x7x3_4,
        ] = block_d(self, name, input)?;
        Ok(BlockD {
            branch3x3_1,
            branch3x3_2,
            branch7x7x3_1,
            branch7x7x3_2,
            branch7x7x3_3,
            branch7x7x3_4,
        })
    }

    fn block_e(&self, name: &str, input: usize) -> Result<BlockE, CycleGanError> {
        let [
            branch1x1,
            branch3x3_1,
            branch3x3_2a,
            branch3x3_2b,
            branch3x3dbl_1,
            branch3x3dbl_2,
            branch3x3dbl_3a,
            branch3x3dbl_3b,
            branch_pool,
        ] = block_e(self, name, input)?;
        Ok(BlockE {
            branch1x1,
            branch3x3_1,
            branch3x3_2a,
            branch3x3_2b,
            branch3x3dbl_1,
            branch3x3dbl_2,
            branch3x3dbl_3a,
            branch3x3dbl_3b,
            branch_pool,
        })
    }
}

/// pytorch-fid's preprocessing of one image: `[3, 299, 299]` values in [−1, 1], planar.
pub fn preprocess(image: &RgbImage) -> Vec<f32> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let mut out = Vec::with_capacity(3 * INPUT_SIZE * INPUT_SIZE);
    for channel in 0..3 {
        let plane: Vec<f32> = image
            .pixels()
            .map(|p| p.0[channel] as f32 / 255.0)
            .collect();
        out.extend(
            resize_bilinear(&plane, [h, w], [INPUT_SIZE, INPUT_SIZE])
                .into_iter()
                .map(|v| 2.0 * v - 1.0),
        );
    }
    out
}

/// Resizes one `[height, width]` plane as `F.interpolate(mode='bilinear',
/// align_corners=False)` (without antialiasing): output pixel `d` samples the input at
/// `(d + 0.5) · in/out − 0.5`, clamped at 0, between its two neighbours.
pub fn resize_bilinear(plane: &[f32], [h, w]: [usize; 2], [oh, ow]: [usize; 2]) -> Vec<f32> {
    let taps = |input: usize, output: usize| -> Vec<(usize, usize, f32)> {
        let scale = input as f32 / output as f32;
        (0..output)
            .map(|d| {
                let source = ((d as f32 + 0.5) * scale - 0.5).max(0.0);
                let first = (source as usize).min(input - 1);
                let second = (first + 1).min(input - 1);
                (first, second, source - first as f32)
            })
            .collect()
    };
    let (rows, columns) = (taps(h, oh), taps(w, ow));
    let mut out = Vec::with_capacity(oh * ow);
    for &(y0, y1, ly) in &rows {
        for &(x0, x1, lx) in &columns {
            let top = plane[y0 * w + x0] * (1.0 - lx) + plane[y0 * w + x1] * lx;
            let bottom = plane[y1 * w + x0] * (1.0 - lx) + plane[y1 * w + x1] * lx;
            out.push(top * (1.0 - ly) + bottom * ly);
        }
    }
    out
}
