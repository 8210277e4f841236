//! Building blocks of CUT and FastCUT (Park, Efros, Zhang, Zhu, ECCV 2020; the official
//! `taesungp/contrastive-unpaired-translation`), CycleGAN's successor from the same authors:
//! one generator, one discriminator, and the cycle loss replaced by a patchwise contrastive
//! loss between the features of a translation's input and output.
//!
//! - [`PatchSampleF`] (`netF`: `mlp_sample` or `sample`): the same patches picked out of
//!   each feature map of the input and of the output, sent through a small MLP per map and
//!   L2-normalised.
//! - [`PatchNceLoss`]: the InfoNCE loss of each output patch against its input patch, the
//!   other patches of the same image being the negatives.
//! - [`NceLoss`]: the generator objective's contrastive term (`calculate_NCE_loss`): the
//!   generator's features of its output and input at the NCE layers, sampled by
//!   [`PatchSampleF`], [`PatchNceLoss`] per layer, weighted by `lambda_NCE` and averaged;
//!   FastCUT's flipped queries included.
//!
//! - [`Cut`]: the training step (`optimize_parameters`: D, then G and netF), CUT's or
//!   FastCUT's by [`CutConfig::with_cut_mode`], with [`CutNets`] (G, D, netF, saved and
//!   loaded under the official `_net_G` / `_net_D` / `_net_F` names and keys).
//!
//! All of it equals the official code on the CPU (`tests/cut.rs`, goldens from
//! `scripts/make_cut_fixtures.py`, which runs the official modules and `CUTModel`): the
//! anti-aliased resampling layers ([`crate::model::antialias`]), the anti-aliased generator and
//! PatchGAN (`ResnetGeneratorConfig::with_antialias` / `with_antialias_up`,
//! `NLayerDiscriminatorConfig::with_antialias`, official `.pth` keys both ways), the
//! generator's feature taps (`ResnetGenerator::forward_features`), the NCE term ([`NceLoss`]
//! against `calculate_NCE_loss`) and two whole steps of CUT and FastCUT (losses, every
//! gradient, the weights after step 2).

mod config;
mod nce;
mod nets;
mod patch_nce;
mod patch_sample;
mod step;

pub use config::{CutConfig, CutMode, NetF};
pub use nce::{NceLoss, NceLossConfig};
pub use nets::CutNets;
pub use patch_nce::{PatchNceLoss, PatchNceLossConfig};
pub use patch_sample::{PatchMlp, PatchSampleF, PatchSampleFConfig, draw_patch_ids};
pub use step::{Cut, CutDraws, CutGradients, CutStep};
