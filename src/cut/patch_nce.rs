//! `PatchNCELoss` of the official CUT (`models/patchnce.py`): for each output patch (query)
//! the cross-entropy of picking its input patch (the positive) among the other input patches
//! of the same image (the negatives), with the similarities divided by a temperature.

use burn::prelude::*;

/// Configuration of a [`PatchNceLoss`]. `PatchNceLossConfig::new()` is CUT's and FastCUT's.
#[derive(Config, Debug)]
pub struct PatchNceLossConfig {
    /// Temperature of the logits (`--nce_T`). Default: 0.07.
    #[config(default = 0.07)]
    pub temperature: f64,
    /// Take the negatives from every image of the batch, not only the query's own
    /// (`--nce_includes_all_negatives_from_minibatch`). Default: false.
    #[config(default = false)]
    pub includes_all_negatives_from_minibatch: bool,
}

impl PatchNceLossConfig {
    /// The loss.
    pub fn init(&self) -> PatchNceLoss {
        PatchNceLoss {
            temperature: self.temperature,
            includes_all_negatives_from_minibatch: self.includes_all_negatives_from_minibatch,
        }
    }
}

/// CUT's patchwise contrastive loss for one feature layer. Built with
/// [`PatchNceLossConfig`].
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use cyclegan_burn::cut::PatchNceLossConfig;
/// use cyclegan_burn::prelude::*;
/// let device = backend::cpu();
/// let rows = Tensor::<2>::from_data([[1.0, 0.0], [0.0, 1.0]], &device);
/// // Each query is its own key and orthogonal to the other: a small loss per row.
/// let loss = PatchNceLossConfig::new().init().forward(rows.clone(), rows, 1);
/// assert_eq!(loss.dims(), [2]);
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatchNceLoss {
    /// Temperature of the logits.
    pub temperature: f64,
    /// Negatives from the whole batch rather than from the query's own image.
    pub includes_all_negatives_from_minibatch: bool,
}

impl PatchNceLoss {
    /// The loss of each row of `query` `[N, D]` against the rows of `key` `[N, D]` (the same
    /// patches of the input; no gradient flows into `key`), `N = batch_size · P` rows
    /// image by image, as [`super::PatchSampleF`] gives them. Row `i`'s logits are its
    /// similarity with key `i` (the positive) and with every key of its image, its own
    /// replaced by −10 (the official mask), all divided by the temperature; its loss is the
    /// cross-entropy of the positive: `logsumexp(logits) − logits[0]`.
    ///
    /// # Panics
    ///
    /// If the shapes differ or `N` is not a multiple of `batch_size`.
    pub fn forward(&self, query: Tensor<2>, key: Tensor<2>, batch_size: usize) -> Tensor<1> {
        let [rows, dim] = query.dims();
        assert_eq!(key.dims(), [rows, dim], "query and key shapes differ");
        let key = key.detach();
        let groups = if self.includes_all_negatives_from_minibatch {
            1
        } else {
            batch_size
        };
        assert!(
            groups > 0 && rows % groups == 0,
            "{rows} rows are not {groups} images' worth"
        );
        let per_group = rows / groups;
        let device = query.device();
        let positive = (query.clone() * key.clone()).sum_dim(1);
        let query = query.reshape([groups, per_group, dim]);
        let key = key.reshape([groups, per_group, dim]);
        let diagonal = Tensor::<2, Bool>::from_data(
            TensorData::new(
                (0..per_group * per_group)
                    .map(|i| i / per_group == i % per_group)
                    .collect::<Vec<_>>(),
                [per_group, per_group],
            ),
            &device,
        )
        .unsqueeze::<3>()
        .expand([groups, per_group, per_group]);
        let negative = query
            .matmul(key.swap_dims(1, 2))
            .mask_fill(diagonal, -10.0)
            .reshape([rows, per_group]);
        let logits = Tensor::cat(vec![positive, negative], 1) / self.temperature;
        let max = logits.clone().max_dim(1).detach();
        let log_sum_exp = (logits.clone() - max.clone()).exp().sum_dim(1).log() + max;
        (log_sum_exp - logits.narrow(1, 0, 1)).reshape([rows])
    }
}
