//! `PatchSampleF`, CUT's `netF` (official `models/networks.py`): from each feature map, the
//! same patch positions for every image of the batch, each patch's feature vector through a
//! per-map MLP (`mlp_sample`; none for `sample`), then L2-normalised.

use burn::nn::Linear;
use burn::prelude::*;
use rand::Rng;
use rand::seq::SliceRandom;

use crate::model::init::{InitType, WeightInit, random_seed};

/// Configuration of a [`PatchSampleF`]. `PatchSampleFConfig::new()` is CUT's default
/// `--netF mlp_sample --netF_nc 256` with `--init_type xavier --init_gain 0.02`.
#[derive(Config, Debug)]
pub struct PatchSampleFConfig {
    /// Width of each MLP's hidden and output layer (`--netF_nc`). Default: 256.
    #[config(default = 256)]
    pub netf_nc: usize,
    /// An MLP per feature map (`mlp_sample`) or none (`sample`). Default: true.
    #[config(default = true)]
    pub use_mlp: bool,
    /// Weight initialisation of the MLPs (`--init_type`; CUT's default is xavier).
    /// Default: xavier.
    #[config(default = "InitType::Xavier")]
    pub init_type: InitType,
    /// Scale of the initialisation (`--init_gain`). Default: 0.02.
    #[config(default = 0.02)]
    pub init_gain: f64,
}

impl PatchSampleFConfig {
    /// Builds the sampler for feature maps of `channels` channels (in the order the maps
    /// will be given), with weights from a fresh random seed.
    ///
    /// The official `PatchSampleF` builds its MLPs lazily, on the first forward call, from
    /// the channels it sees; here the channels are given up front.
    pub fn init(&self, channels: &[usize], device: &Device) -> PatchSampleF {
        self.init_seeded(channels, device, random_seed())
    }

    /// [`init`](Self::init) with weights drawn from `seed` (the same on every backend).
    pub fn init_seeded(&self, channels: &[usize], device: &Device, seed: u64) -> PatchSampleF {
        let mut weights = WeightInit::new(self.init_type, self.init_gain, seed);
        let mlps = if self.use_mlp {
            channels
                .iter()
                .map(|&c| PatchMlp {
                    first: weights.linear(c, self.netf_nc, device),
                    second: weights.linear(self.netf_nc, self.netf_nc, device),
                })
                .collect()
        } else {
            Vec::new()
        };
        PatchSampleF { mlps }
    }
}

/// `Linear(C → nc)`, ReLU, `Linear(nc → nc)`: the MLP of one feature map (`mlp_{j}` of the
/// official code, whose `mlp_{j}.0` and `mlp_{j}.2` are `first` and `second`).
#[derive(Module, Debug)]
pub struct PatchMlp {
    /// `mlp_{j}.0`.
    pub first: Linear,
    /// `mlp_{j}.2`.
    pub second: Linear,
}

impl PatchMlp {
    /// `second(relu(first(x)))` on rows `[N, C]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.second
            .forward(burn::tensor::activation::relu(self.first.forward(x)))
    }
}

/// CUT's patch sampler (`netF`). Built with [`PatchSampleFConfig`].
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use cyclegan_burn::cut::PatchSampleFConfig;
/// use cyclegan_burn::prelude::*;
/// let device = backend::cpu();
/// let net_f = PatchSampleFConfig::new().with_netf_nc(32).init_seeded(&[3, 16], &device, 0);
/// let features = vec![Tensor::ones([2, 3, 8, 8], &device), Tensor::ones([2, 16, 4, 4], &device)];
/// let ids = vec![vec![0, 9, 63], vec![1, 2, 3]];
/// let (rows, _) = net_f.forward(&features, 3, Some(&ids), &mut rand::rng());
/// // Two images × three patches, 32 wide, unit length.
/// assert_eq!(rows[0].dims(), [6, 32]);
/// # }
/// ```
#[derive(Module, Debug)]
pub struct PatchSampleF {
    /// One MLP per feature map (none for `sample`).
    pub mlps: Vec<PatchMlp>,
}

impl PatchSampleF {
    /// For each feature map `[B, C_j, H_j, W_j]` of `features`: the patches at `patch_ids[j]`
    /// (flat positions `h · W_j + w`), or at `min(num_patches, H_j · W_j)` positions drawn from
    /// `rng` (a random permutation, cut short, as the official `np.random.permutation`), the
    /// same positions for every image; as rows `[B · P_j, nc]`, image by image, through the
    /// map's MLP and divided by their L2 norm + 1e-7. Returns the rows and the positions used,
    /// so that the output's features can be sampled at the input's positions.
    ///
    /// # Panics
    ///
    /// If `num_patches` is 0 (the official "every position" mode, which CUT does not use),
    /// if a given position is outside its map, or if there are more maps than MLPs.
    pub fn forward(
        &self,
        features: &[Tensor<4>],
        num_patches: usize,
        patch_ids: Option<&[Vec<usize>]>,
        rng: &mut impl Rng,
    ) -> (Vec<Tensor<2>>, Vec<Vec<usize>>) {
        assert!(
            num_patches > 0,
            "PatchSampleF needs at least one patch per map"
        );
        let mut rows = Vec::with_capacity(features.len());
        let mut used = Vec::with_capacity(features.len());
        for (j, feature) in features.iter().enumerate() {
            let [batch, channels, height, width] = feature.dims();
            let ids = match patch_ids {
                Some(given) => given[j].clone(),
                None => draw_patch_ids(height * width, num_patches, rng),
            };
            assert!(
                ids.iter().all(|&id| id < height * width),
                "a patch id is outside the {height}×{width} map {j}"
            );
            let device = feature.device();
            let index = Tensor::<1, Int>::from_data(
                TensorData::new(ids.iter().map(|&id| id as i64).collect(), [ids.len()]),
                &device,
            );
            let sampled = feature
                .clone()
                .permute([0, 2, 3, 1])
                .reshape([batch, height * width, channels])
                .select(1, index)
                .reshape([batch * ids.len(), channels]);
            let projected = if self.mlps.is_empty() {
                sampled
            } else {
                self.mlps[j].forward(sampled)
            };
            rows.push(l2_normalize(projected));
            used.push(ids);
        }
        (rows, used)
    }
}

/// `x / (‖x‖₂ + 1e-7)` row by row (the official `Normalize(2)`), with `‖x‖₂` taken as
/// `sqrt(Σx² + 1e-30)`: the same values in float32 for any row with `Σx² > 1e-23`, and a
/// gradient of 0 instead of the official NaN (`0 / sqrt(0)`) for an all-zero row, which
/// netF's ReLU MLP can produce at the start of training (the official run is lost then).
fn l2_normalize(x: Tensor<2>) -> Tensor<2> {
    let norm = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .add_scalar(1e-30)
        .sqrt();
    x / (norm + 1e-7)
}

/// `min(num_patches, positions)` distinct positions out of `0..positions`, in random order:
/// the first entries of a random permutation, as the official
/// `np.random.permutation(positions)[:num_patches]` draws them (from `rng`, not numpy's).
pub fn draw_patch_ids(positions: usize, num_patches: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut ids: Vec<usize> = (0..positions).collect();
    ids.shuffle(rng);
    ids.truncate(num_patches.min(positions));
    ids
}
