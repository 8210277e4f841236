//! Learning-rate policies (`--lr_policy`), as the official `get_scheduler`, evaluated per
//! epoch with epochs counted from 1.

use serde::{Deserialize, Serialize};

use crate::error::CycleGanError;

/// How the learning rate changes from epoch to epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum LrPolicy {
    /// Constant for `n_epochs`, then linear decay over `n_epochs_decay` epochs (the official
    /// default): `lr · (1 − max(0, e − n_epochs) / (n_epochs_decay + 1))`.
    Linear {
        /// Epochs at the initial rate (`--n_epochs`, default 100).
        n_epochs: usize,
        /// Epochs of linear decay (`--n_epochs_decay`, default 100).
        n_epochs_decay: usize,
    },
    /// Multiply by 0.1 every `lr_decay_iters` epochs (`StepLR`).
    Step {
        /// Epochs between decays (`--lr_decay_iters`, default 50).
        lr_decay_iters: usize,
    },
    /// Cosine annealing to 0 over `n_epochs` epochs (`CosineAnnealingLR`, `T_max = n_epochs`).
    Cosine {
        /// The half period in epochs.
        n_epochs: usize,
    },
    /// The initial rate throughout.
    Constant,
}

impl Default for LrPolicy {
    fn default() -> Self {
        LrPolicy::Linear {
            n_epochs: 100,
            n_epochs_decay: 100,
        }
    }
}

/// The name of a learning-rate policy (`--lr_policy`), without its epoch counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum LrPolicyName {
    /// [`LrPolicy::Linear`] (the official default).
    #[default]
    #[cfg_attr(feature = "clap", value(name = "linear"))]
    Linear,
    /// [`LrPolicy::Step`].
    #[cfg_attr(feature = "clap", value(name = "step"))]
    Step,
    /// [`LrPolicy::Cosine`].
    #[cfg_attr(feature = "clap", value(name = "cosine"))]
    Cosine,
    /// [`LrPolicy::Constant`].
    #[cfg_attr(feature = "clap", value(name = "constant"))]
    Constant,
    /// The official `plateau` policy, which needs a validation metric that CycleGAN
    /// training does not have: accepted as a name so that choosing it explains why it is
    /// not available.
    #[cfg_attr(feature = "clap", value(name = "plateau", hide = true))]
    Plateau,
}

impl std::str::FromStr for LrPolicyName {
    type Err = CycleGanError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "linear" => Ok(Self::Linear),
            "step" => Ok(Self::Step),
            "cosine" => Ok(Self::Cosine),
            "constant" => Ok(Self::Constant),
            "plateau" => Ok(Self::Plateau),
            other => Err(CycleGanError::option(
                "lr_policy",
                format!("`{other}` is not one of linear, step, cosine, constant"),
            )),
        }
    }
}

impl LrPolicyName {
    /// The policy of this name with the epoch counts it uses.
    pub fn policy(
        self,
        n_epochs: usize,
        n_epochs_decay: usize,
        lr_decay_iters: usize,
    ) -> Result<LrPolicy, CycleGanError> {
        match self {
            Self::Linear => Ok(LrPolicy::Linear {
                n_epochs,
                n_epochs_decay,
            }),
            Self::Step => {
                if lr_decay_iters == 0 {
                    return Err(CycleGanError::option(
                        "lr_decay_iters",
                        "must be at least 1",
                    ));
                }
                Ok(LrPolicy::Step { lr_decay_iters })
            }
            Self::Cosine => Ok(LrPolicy::Cosine { n_epochs }),
            Self::Constant => Ok(LrPolicy::Constant),
            Self::Plateau => Err(CycleGanError::option(
                "lr_policy",
                "`plateau` needs a validation metric, which CycleGAN training does not have; use linear, step, cosine or constant",
            )),
        }
    }
}

impl LrPolicy {
    /// The policy named as the official `--lr_policy` (`linear`, `step`, `cosine`; also
    /// `constant`), with the epoch counts it uses.
    pub fn from_name(
        name: &str,
        n_epochs: usize,
        n_epochs_decay: usize,
        lr_decay_iters: usize,
    ) -> Result<Self, CycleGanError> {
        name.parse::<LrPolicyName>()?
            .policy(n_epochs, n_epochs_decay, lr_decay_iters)
    }

    /// The learning rate during `epoch` (counted from 1) for an initial rate `base_lr`.
    ///
    /// ```
    /// use cyclegan_burn::train::LrPolicy;
    /// let policy = LrPolicy::Linear { n_epochs: 100, n_epochs_decay: 100 };
    /// assert_eq!(policy.lr_at(2e-4, 100), 2e-4);
    /// assert!((policy.lr_at(2e-4, 200) - 1.98e-6).abs() < 1e-9);
    /// ```
    pub fn lr_at(&self, base_lr: f64, epoch: usize) -> f64 {
        let completed = epoch.saturating_sub(1);
        match *self {
            LrPolicy::Linear {
                n_epochs,
                n_epochs_decay,
            } => {
                let over = epoch.saturating_sub(n_epochs) as f64;
                base_lr * (1.0 - over / (n_epochs_decay as f64 + 1.0))
            }
            LrPolicy::Step { lr_decay_iters } => {
                base_lr * 0.1f64.powi((completed / lr_decay_iters.max(1)) as i32)
            }
            LrPolicy::Cosine { n_epochs } => {
                let t_max = n_epochs.max(1) as f64;
                base_lr * (1.0 + (std::f64::consts::PI * completed as f64 / t_max).cos()) / 2.0
            }
            LrPolicy::Constant => base_lr,
        }
    }

    /// The epoch after which training ends by default (`n_epochs + n_epochs_decay` for the
    /// linear policy), or `None` when the policy does not say.
    pub fn total_epochs(&self) -> Option<usize> {
        match *self {
            LrPolicy::Linear {
                n_epochs,
                n_epochs_decay,
            } => Some(n_epochs + n_epochs_decay),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_matches_the_official_values() {
        let policy = LrPolicy::Linear {
            n_epochs: 100,
            n_epochs_decay: 100,
        };
        let expected = [
            (1, 2e-4),
            (100, 2e-4),
            (101, 1.9802e-4),
            (150, 1.0099e-4),
            (200, 1.98e-6),
        ];
        for (epoch, lr) in expected {
            let got = policy.lr_at(2e-4, epoch);
            assert!((got - lr).abs() < 1e-9, "epoch {epoch}: {got} vs {lr}");
        }
    }

    #[test]
    fn linear_small_schedule_as_pytorch() {
        // n = 3, decay = 4: 2e-4 ×3, then 1.6e-4, 1.2e-4, 8e-5, 4e-5.
        let policy = LrPolicy::Linear {
            n_epochs: 3,
            n_epochs_decay: 4,
        };
        let got: Vec<f64> = (1..=7).map(|e| policy.lr_at(2e-4, e)).collect();
        let expected = [2e-4, 2e-4, 2e-4, 1.6e-4, 1.2e-4, 8e-5, 4e-5];
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn step_decays_by_ten_every_period() {
        let policy = LrPolicy::Step { lr_decay_iters: 50 };
        for epoch in [1usize, 2, 50, 51, 100, 101, 151] {
            let expected = 2e-4 * 0.1f64.powi(((epoch - 1) / 50) as i32);
            assert!((policy.lr_at(2e-4, epoch) - expected).abs() < 1e-15);
        }
        assert_eq!(policy.lr_at(2e-4, 50), 2e-4);
        assert!((policy.lr_at(2e-4, 51) - 2e-5).abs() < 1e-15);
    }

    #[test]
    fn cosine_follows_its_formula() {
        let policy = LrPolicy::Cosine { n_epochs: 10 };
        for epoch in 1..=21usize {
            let t = (epoch - 1) as f64;
            let expected = 1e-3 * (1.0 + (std::f64::consts::PI * t / 10.0).cos()) / 2.0;
            assert!((policy.lr_at(1e-3, epoch) - expected).abs() < 1e-15);
        }
        assert_eq!(policy.lr_at(1e-3, 1), 1e-3);
        assert!(policy.lr_at(1e-3, 11).abs() < 1e-15);
    }

    #[test]
    fn names() {
        assert_eq!(
            LrPolicy::from_name("constant", 1, 1, 1).unwrap(),
            LrPolicy::Constant
        );
        let err = LrPolicy::from_name("exp", 1, 1, 1).unwrap_err().to_string();
        assert!(err.contains("lr_policy") && err.contains("exp"));
    }
}
