//! The CycleGAN objectives: adversarial losses ([`GanLoss`]), the cycle-consistency and
//! identity L1 terms ([`CycleLoss`]), and their options ([`LossConfig`]).

use burn::prelude::*;
use burn::tensor::activation::softplus;
use serde::{Deserialize, Serialize};

use crate::error::CycleGanError;

/// The adversarial objective (`--gan_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum GanMode {
    /// Least-squares GAN: mean squared error to 1 (real) or 0 (fake). CycleGAN's default.
    #[default]
    Lsgan,
    /// The original GAN: binary cross-entropy on logits (`BCEWithLogitsLoss`).
    Vanilla,
    /// Wasserstein GAN: `-mean(D)` for real targets, `mean(D)` for fake ones. As in the
    /// official CycleGAN, **no gradient penalty** (nor weight clipping) is applied.
    Wgan,
}

crate::names::official_names!(GanMode, "gan_mode", {
    Lsgan => "lsgan",
    Vanilla => "vanilla",
    Wgan => "wgangp" | "wgan",
});

/// The objective's options (the official loss options): the adversarial objective and the
/// weights of every term. `LossConfig::new()` is the official default: LSGAN, lambda_A =
/// lambda_B = 10, lambda_identity = 0.5.
#[derive(Config, Debug, PartialEq)]
pub struct LossConfig {
    /// Adversarial objective (`--gan_mode`). Default: lsgan.
    #[config(default = "GanMode::Lsgan")]
    pub gan_mode: GanMode,
    /// Weight of the A → B → A cycle loss (`--lambda_A`). Default: 10.
    #[config(default = 10.0)]
    pub lambda_a: f64,
    /// Weight of the B → A → B cycle loss (`--lambda_B`). Default: 10.
    #[config(default = 10.0)]
    pub lambda_b: f64,
    /// Identity loss weight relative to the cycle weights (`--lambda_identity`); 0 skips
    /// the identity terms. Default: 0.5.
    #[config(default = 0.5)]
    pub lambda_identity: f64,
    /// Weight of G_A's adversarial loss (D_A judging G_A(A)); 0 turns it off for
    /// ablations. Default: 1.
    #[config(default = 1.0)]
    pub lambda_gan_a: f64,
    /// Weight of G_B's adversarial loss (D_B judging G_B(B)). Default: 1.
    #[config(default = 1.0)]
    pub lambda_gan_b: f64,
}

impl LossConfig {
    /// The cycle and identity weights.
    pub fn cycle_loss(&self) -> CycleLoss {
        CycleLoss {
            lambda_a: self.lambda_a,
            lambda_b: self.lambda_b,
            lambda_identity: self.lambda_identity,
        }
    }

    /// The adversarial loss.
    pub fn gan_loss(&self) -> GanLoss {
        GanLoss::new(self.gan_mode)
    }

    /// Refuses weights that are negative or not finite, naming the field.
    pub fn validate(&self) -> Result<(), CycleGanError> {
        for (name, value) in [
            ("lambda_a", self.lambda_a),
            ("lambda_b", self.lambda_b),
            ("lambda_identity", self.lambda_identity),
            ("lambda_gan_a", self.lambda_gan_a),
            ("lambda_gan_b", self.lambda_gan_b),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(CycleGanError::config(
                    name,
                    format!("must be a finite number >= 0, got {value}"),
                ));
            }
        }
        Ok(())
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
