//! The CycleGAN objectives: adversarial losses ([`GanLoss`]) and the cycle-consistency and
//! identity L1 terms ([`CycleLoss`]).

use burn::prelude::*;
use burn::tensor::activation::softplus;
use serde::{Deserialize, Serialize};

use crate::error::CycleGanError;

/// The adversarial objective (`--gan_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum GanMode {
    /// Least-squares GAN: mean squared error to 1 (real) or 0 (fake). CycleGAN's default.
    #[default]
    #[cfg_attr(feature = "clap", value(name = "lsgan"))]
    Lsgan,
    /// The original GAN: binary cross-entropy on logits (`BCEWithLogitsLoss`).
    #[cfg_attr(feature = "clap", value(name = "vanilla"))]
    Vanilla,
    /// Wasserstein GAN: `-mean(D)` for real targets, `mean(D)` for fake ones. As in the
    /// official CycleGAN, **no gradient penalty** (nor weight clipping) is applied.
    #[cfg_attr(feature = "clap", value(name = "wgangp", alias = "wgan"))]
    Wgan,
}

impl std::str::FromStr for GanMode {
    type Err = CycleGanError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "lsgan" => Ok(Self::Lsgan),
            "vanilla" => Ok(Self::Vanilla),
            "wgangp" | "wgan" => Ok(Self::Wgan),
            other => Err(CycleGanError::option(
                "gan_mode",
                format!("`{other}` is not one of lsgan, vanilla, wgangp"),
            )),
        }
    }
}

impl std::fmt::Display for GanMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Lsgan => "lsgan",
            Self::Vanilla => "vanilla",
            Self::Wgan => "wgangp",
        })
    }
}

/// The adversarial loss of the official `GANLoss`: compares a discriminator's raw score map
/// with an all-real or all-fake target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GanLoss {
    /// Which objective.
    pub mode: GanMode,
}

impl GanLoss {
    /// A loss of the given mode.
    pub fn new(mode: GanMode) -> Self {
        Self { mode }
    }

    /// The loss of `prediction` (any shape, raw scores) against the target "real"
    /// (`target_is_real`) or "fake", as a one-element tensor.
    pub fn forward<const D: usize>(
        &self,
        prediction: Tensor<D>,
        target_is_real: bool,
    ) -> Tensor<1> {
        let target = if target_is_real { 1.0 } else { 0.0 };
        match self.mode {
            GanMode::Lsgan => prediction.sub_scalar(target).square().mean(),
            GanMode::Vanilla => {
                // BCE with logits, numerically stable: max(x, 0) − x·t + log(1 + e^{−|x|}),
                // which equals softplus(x) − x·t.
                let loss = softplus(prediction.clone(), 1.0) - prediction.mul_scalar(target);
                loss.mean()
            }
            GanMode::Wgan => {
                if target_is_real {
                    prediction.mean().neg()
                } else {
                    prediction.mean()
                }
            }
        }
    }
}

/// Mean absolute error of two tensors of the same shape, as a one-element tensor.
pub fn l1<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> Tensor<1> {
    (a - b).abs().mean()
}

/// The cycle-consistency and identity terms, with the official weights.
///
/// * cycle A: `L1(G_B(G_A(A)), A) · lambda_a`; cycle B: `L1(G_A(G_B(B)), B) · lambda_b`.
/// * identity A: `L1(G_A(B), B) · lambda_b · lambda_identity`; identity B:
///   `L1(G_B(A), A) · lambda_a · lambda_identity`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CycleLoss {
    /// Weight of the A → B → A cycle (`--lambda_A`). Official default 10.
    pub lambda_a: f64,
    /// Weight of the B → A → B cycle (`--lambda_B`). Official default 10.
    pub lambda_b: f64,
    /// Identity weight relative to the cycle weights (`--lambda_identity`). Official
    /// default 0.5; 0 skips the identity terms entirely.
    pub lambda_identity: f64,
}

impl Default for CycleLoss {
    fn default() -> Self {
        Self {
            lambda_a: 10.0,
            lambda_b: 10.0,
            lambda_identity: 0.5,
        }
    }
}

impl CycleLoss {
    /// Weighted cycle loss of domain A: `L1(rec_a, real_a) · lambda_a`.
    pub fn cycle_a(&self, rec_a: Tensor<4>, real_a: Tensor<4>) -> Tensor<1> {
        l1(rec_a, real_a).mul_scalar(self.lambda_a)
    }

    /// Weighted cycle loss of domain B: `L1(rec_b, real_b) · lambda_b`.
    pub fn cycle_b(&self, rec_b: Tensor<4>, real_b: Tensor<4>) -> Tensor<1> {
        l1(rec_b, real_b).mul_scalar(self.lambda_b)
    }

    /// Whether the identity terms are computed at all.
    pub fn uses_identity(&self) -> bool {
        self.lambda_identity > 0.0
    }

    /// Weighted identity loss of G_A: `L1(G_A(real_b), real_b) · lambda_b · lambda_identity`.
    pub fn identity_a(&self, idt_a: Tensor<4>, real_b: Tensor<4>) -> Tensor<1> {
        l1(idt_a, real_b).mul_scalar(self.lambda_b * self.lambda_identity)
    }

    /// Weighted identity loss of G_B: `L1(G_B(real_a), real_a) · lambda_a · lambda_identity`.
    pub fn identity_b(&self, idt_b: Tensor<4>, real_a: Tensor<4>) -> Tensor<1> {
        l1(idt_b, real_a).mul_scalar(self.lambda_a * self.lambda_identity)
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;

    fn t(values: &[f32]) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(values.to_vec(), [1, values.len()]),
            &Device::flex(),
        )
    }

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_scalar::<f32>()
    }

    #[test]
    fn lsgan_is_mse_to_the_target() {
        let loss = GanLoss::new(GanMode::Lsgan);
        assert!((scalar(loss.forward(t(&[0.5, 2.0]), true)) - (0.25 + 1.0) / 2.0).abs() < 1e-7);
        assert!((scalar(loss.forward(t(&[0.5, 2.0]), false)) - (0.25 + 4.0) / 2.0).abs() < 1e-7);
    }

    #[test]
    fn vanilla_is_bce_with_logits() {
        let loss = GanLoss::new(GanMode::Vanilla);
        let x = [-3.0f32, 0.0, 2.5, 40.0];
        let bce = |t: f64| {
            x.iter()
                .map(|&x| {
                    let p = 1.0 / (1.0 + (-(x as f64)).exp());
                    let p = p.clamp(1e-300, 1.0 - 1e-16);
                    -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
                })
                .sum::<f64>()
                / x.len() as f64
        };
        let real = scalar(loss.forward(t(&x), true)) as f64;
        let fake = scalar(loss.forward(t(&x), false)) as f64;
        assert!((real - bce(1.0)).abs() < 1e-5, "{real} vs {}", bce(1.0));
        // For x = 40, 1 − p underflows in f64, so compare against the exact softplus.
        let exact_fake = x
            .iter()
            .map(|&x| (1.0 + (x as f64).exp()).ln())
            .sum::<f64>()
            / 4.0;
        assert!((fake - exact_fake).abs() < 1e-4, "{fake} vs {exact_fake}");
    }

    #[test]
    fn wgan_is_signed_mean() {
        let loss = GanLoss::new(GanMode::Wgan);
        assert!((scalar(loss.forward(t(&[1.0, 3.0]), true)) + 2.0).abs() < 1e-7);
        assert!((scalar(loss.forward(t(&[1.0, 3.0]), false)) - 2.0).abs() < 1e-7);
    }

    #[test]
    fn cycle_and_identity_weights() {
        let device = Device::flex();
        let a = Tensor::<4>::ones([1, 1, 2, 2], &device);
        let b = Tensor::<4>::zeros([1, 1, 2, 2], &device);
        let loss = CycleLoss {
            lambda_a: 10.0,
            lambda_b: 4.0,
            lambda_identity: 0.5,
        };
        assert_eq!(scalar(loss.cycle_a(a.clone(), b.clone())), 10.0);
        assert_eq!(scalar(loss.cycle_b(a.clone(), b.clone())), 4.0);
        assert_eq!(scalar(loss.identity_a(a.clone(), b.clone())), 2.0);
        assert_eq!(scalar(loss.identity_b(a, b)), 5.0);
    }

    #[test]
    fn parse_modes() {
        assert_eq!("vanilla".parse::<GanMode>().unwrap(), GanMode::Vanilla);
        assert!(
            "hinge"
                .parse::<GanMode>()
                .unwrap_err()
                .to_string()
                .contains("gan_mode")
        );
    }
}
