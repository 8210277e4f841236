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
//! Both equal the official code's on the CPU (`tests/cut.rs`, goldens from
//! `scripts/make_cut_fixtures.py`, which runs the official modules), as do the anti-aliased
//! resampling layers of CUT's networks ([`crate::model::antialias`]), its anti-aliased
//! generator and PatchGAN (`ResnetGeneratorConfig::with_antialias` / `with_antialias_up`,
//! `NLayerDiscriminatorConfig::with_antialias`, official `.pth` keys both ways) and the
//! generator's feature taps (`ResnetGenerator::forward_features`), and the whole NCE term
//! ([`NceLoss`] against the official `calculate_NCE_loss`). The CUT training step (D then
//! G + F, netF's optimizer after the first batch), its options in the train program and the
//! measured comparison are not in the crate yet.

mod nce;
mod patch_nce;
mod patch_sample;

pub use nce::{NceLoss, NceLossConfig};
pub use patch_nce::{PatchNceLoss, PatchNceLossConfig};
pub use patch_sample::{PatchMlp, PatchSampleF, PatchSampleFConfig, draw_patch_ids};
