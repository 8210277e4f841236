//! CUT's contrastive term of the generator objective (`calculate_NCE_loss` of the official
//! `models/cut_model.py`): the generator's features of its output (queries) and of its input
//! (keys) at the NCE layers, the same patches sampled from both by [`PatchSampleF`], and the
//! [`PatchNceLoss`] of each layer, weighted and averaged over the layers.

use burn::prelude::*;
use rand::Rng;

use super::{PatchNceLoss, PatchNceLossConfig, PatchSampleF};
use crate::model::ResnetGenerator;

/// Configuration of an [`NceLoss`]; `NceLossConfig::new()` is CUT's defaults.
#[derive(Config, Debug)]
pub struct NceLossConfig {
    /// The generator's modules whose outputs are compared (`--nce_layers`).
    /// Default: 0, 4, 8, 12, 16.
    #[config(default = "vec![0, 4, 8, 12, 16]")]
    pub nce_layers: Vec<usize>,
    /// Patches sampled per layer (`--num_patches`). Default: 256.
    #[config(default = 256)]
    pub num_patches: usize,
    /// Weight of the term (`--lambda_NCE`): 1 for CUT, 10 for FastCUT. Default: 1.
    #[config(default = 1.0)]
    pub lambda_nce: f64,
    /// The loss of each layer (`--nce_T`, negatives).
    #[config(default = "PatchNceLossConfig::new()")]
    pub patch_nce: PatchNceLossConfig,
}

impl NceLossConfig {
    /// The loss.
    pub fn init(&self) -> NceLoss {
        NceLoss {
            nce_layers: self.nce_layers.clone(),
            num_patches: self.num_patches,
            lambda_nce: self.lambda_nce,
            patch_nce: self.patch_nce.init(),
        }
    }
}

/// CUT's NCE term. Built with [`NceLossConfig`].
#[derive(Debug, Clone, PartialEq)]
pub struct NceLoss {
    /// The generator's modules whose outputs are compared.
    pub nce_layers: Vec<usize>,
    /// Patches sampled per layer.
    pub num_patches: usize,
    /// Weight of the term.
    pub lambda_nce: f64,
    /// The loss of each layer.
    pub patch_nce: PatchNceLoss,
}

impl NceLoss {
    /// `(1/L) · Σ_layers λ · mean(PatchNCE(F(G_enc(output)), F(G_enc(source))))`: the keys are
    /// the features of `source` (the generator's input), the queries those of `output` (its
    /// translation), sampled at the same patches: `patch_ids` when given, else drawn from
    /// `rng` for the keys. With `flipped` (FastCUT's flip equivariance: `output` was made from
    /// the horizontally flipped source) the query features are flipped back first. Returns
    /// the loss and the patch ids used.
    ///
    /// # Panics
    ///
    /// If `nce_layers` is empty or names a module past the generator's last, or as
    /// [`PatchSampleF::forward`] does.
    // The official function's inputs, plus the draws a test gives explicitly.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        generator: &ResnetGenerator,
        net_f: &PatchSampleF,
        source: Tensor<4>,
        output: Tensor<4>,
        flipped: bool,
        patch_ids: Option<&[Vec<usize>]>,
        rng: &mut impl Rng,
    ) -> (Tensor<1>, Vec<Vec<usize>>) {
        assert!(!self.nce_layers.is_empty(), "no NCE layers");
        let batch_size = source.dims()[0];
        let mut queries = generator.forward_features(output, &self.nce_layers);
        if flipped {
            queries = queries.into_iter().map(|q| q.flip([3])).collect();
        }
        // The keys take no gradient (the official PatchNCELoss detaches them after netF):
        // computed with G and netF held constant, their pass keeps no autodiff graph, which
        // saves its activations (CUT's largest memory after the translation itself).
        let keys = generator
            .clone()
            .no_grad()
            .forward_features(source.detach(), &self.nce_layers);
        assert_eq!(
            keys.len(),
            self.nce_layers.len(),
            "an NCE layer past the generator's last module"
        );
        let (keys, ids) = net_f
            .clone()
            .no_grad()
            .forward(&keys, self.num_patches, patch_ids, rng);
        let (queries, _) = net_f.forward(&queries, self.num_patches, Some(&ids), rng);
        let total = queries
            .into_iter()
            .zip(keys)
            .map(|(query, key)| {
                (self.patch_nce.forward(query, key, batch_size) * self.lambda_nce).mean()
            })
            .reduce(|a, b| a + b)
            .expect("at least one layer");
        (total / self.nce_layers.len() as f64, ids)
    }
}
