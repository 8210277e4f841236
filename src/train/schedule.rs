//! Learning-rate schedules (`--n_epochs`, `--n_epochs_decay`, `--lr_policy`), as the
//! official `get_scheduler`, evaluated per epoch with epochs counted from 1.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::CycleGanError;

/// How the learning rate changes from epoch to epoch; the epoch counts it uses are the
/// [`ScheduleConfig`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub enum LrPolicy {
    /// Constant for `n_epochs`, then linear decay over `n_epochs_decay` epochs (the official
    /// default): `lr · (1 − max(0, e − n_epochs) / (n_epochs_decay + 1))`.
    #[default]
    Linear,
    /// Multiply by 0.1 every `lr_decay_iters` epochs (`StepLR`).
    Step {
        /// Epochs between decays (`--lr_decay_iters`, default 50).
        lr_decay_iters: usize,
    },
    /// Cosine annealing to 0 over `n_epochs` epochs (`CosineAnnealingLR`, `T_max = n_epochs`).
    Cosine,
    /// The initial rate throughout.
    Constant,
}

/// The training schedule: how many epochs, and the learning rate in each. Training runs
/// `n_epochs + n_epochs_decay` epochs whatever the policy, as the official `train.py`.
/// `ScheduleConfig::new()` is the official default: 100 + 100 epochs, linear decay.
///
/// ```
/// use cyclegan_burn::train::ScheduleConfig;
/// let schedule = ScheduleConfig::new();
/// assert_eq!(schedule.total_epochs(), 200);
/// assert_eq!(schedule.lr_at(2e-4, 100), 2e-4);
/// assert!((schedule.lr_at(2e-4, 200) - 1.98e-6).abs() < 1e-9);
/// ```
#[derive(Config, Debug, PartialEq)]
pub struct ScheduleConfig {
    /// Epochs at the initial learning rate (`--n_epochs`). Default: 100.
    #[config(default = 100)]
    pub n_epochs: usize,
    /// Epochs of decay (`--n_epochs_decay`). Default: 100.
    #[config(default = 100)]
    pub n_epochs_decay: usize,
    /// The policy (`--lr_policy`). Default: linear.
    #[config(default = "LrPolicy::Linear")]
    pub lr_policy: LrPolicy,
}

impl ScheduleConfig {
    /// The last epoch of training, `n_epochs + n_epochs_decay`.
    pub fn total_epochs(&self) -> usize {
        self.n_epochs + self.n_epochs_decay
    }

    /// The learning rate during `epoch` (counted from 1) for an initial rate `base_lr`.
    pub fn lr_at(&self, base_lr: f64, epoch: usize) -> f64 {
        let completed = epoch.saturating_sub(1);
        match self.lr_policy {
            LrPolicy::Linear => {
                let over = epoch.saturating_sub(self.n_epochs) as f64;
                base_lr * (1.0 - over / (self.n_epochs_decay as f64 + 1.0))
            }
            LrPolicy::Step { lr_decay_iters } => {
                base_lr * 0.1f64.powi((completed / lr_decay_iters.max(1)) as i32)
            }
            LrPolicy::Cosine => {
                let t_max = self.n_epochs.max(1) as f64;
                base_lr * (1.0 + (std::f64::consts::PI * completed as f64 / t_max).cos()) / 2.0
            }
            LrPolicy::Constant => base_lr,
        }
    }

    /// Refuses a step policy without a period.
    pub fn validate(&self) -> Result<(), CycleGanError> {
        if let LrPolicy::Step { lr_decay_iters: 0 } = self.lr_policy {
            return Err(CycleGanError::config(
                "lr_decay_iters",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// The name of a learning-rate policy (`--lr_policy`), without its epoch counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LrPolicyName {
    /// [`LrPolicy::Linear`] (the official default).
    #[default]
    Linear,
    /// [`LrPolicy::Step`].
    Step,
    /// [`LrPolicy::Cosine`].
    Cosine,
    /// [`LrPolicy::Constant`].
    Constant,
    /// The official `plateau` policy, which needs a validation metric that CycleGAN
    /// training does not have: accepted as a name so that choosing it explains why it is
    /// not available.
    Plateau,
}

crate::names::official_names!(LrPolicyName, "lr_policy", {
    Linear => "linear",
    Step => "step",
    Cosine => "cosine",
    Constant => "constant",
    Plateau => "plateau" (hidden),
});

impl LrPolicyName {
    /// The policy of this name; `lr_decay_iters` is the step policy's period.
    pub fn policy(self, lr_decay_iters: usize) -> Result<LrPolicy, CycleGanError> {
        match self {
            Self::Linear => Ok(LrPolicy::Linear),
            Self::Step => {
                if lr_decay_iters == 0 {
                    return Err(CycleGanError::config(
                        "lr_decay_iters",
                        "must be at least 1",
                    ));
                }
                Ok(LrPolicy::Step { lr_decay_iters })
            }
            Self::Cosine => Ok(LrPolicy::Cosine),
            Self::Constant => Ok(LrPolicy::Constant),
            Self::Plateau => Err(CycleGanError::config(
                "lr_policy",
                "`plateau` needs a validation metric, which CycleGAN training does not have; use linear, step, cosine or constant",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(n_epochs: usize, n_epochs_decay: usize, lr_policy: LrPolicy) -> ScheduleConfig {
        ScheduleConfig::new()
            .with_n_epochs(n_epochs)
            .with_n_epochs_decay(n_epochs_decay)
            .with_lr_policy(lr_policy)
    }

    #[test]
    fn linear_matches_the_official_values() {
        let policy = schedule(100, 100, LrPolicy::Linear);
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
        let policy = schedule(3, 4, LrPolicy::Linear);
        let got: Vec<f64> = (1..=7).map(|e| policy.lr_at(2e-4, e)).collect();
        let expected = [2e-4, 2e-4, 2e-4, 1.6e-4, 1.2e-4, 8e-5, 4e-5];
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn step_decays_by_ten_every_period() {
        let policy = schedule(100, 100, LrPolicy::Step { lr_decay_iters: 50 });
        for epoch in [1usize, 2, 50, 51, 100, 101, 151] {
            let expected = 2e-4 * 0.1f64.powi(((epoch - 1) / 50) as i32);
            assert!((policy.lr_at(2e-4, epoch) - expected).abs() < 1e-15);
        }
        assert_eq!(policy.lr_at(2e-4, 50), 2e-4);
        assert!((policy.lr_at(2e-4, 51) - 2e-5).abs() < 1e-15);
        assert!(
            schedule(1, 1, LrPolicy::Step { lr_decay_iters: 0 })
                .validate()
                .is_err()
        );
    }

    #[test]
    fn cosine_follows_its_formula() {
        let policy = schedule(10, 0, LrPolicy::Cosine);
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
        let constant = "constant".parse::<LrPolicyName>().unwrap();
        assert_eq!(constant.policy(1).unwrap(), LrPolicy::Constant);
        let err = "exp".parse::<LrPolicyName>().unwrap_err().to_string();
        assert!(err.contains("lr_policy") && err.contains("exp"), "{err}");
        assert!(!err.contains("plateau"), "{err}");
        let plateau = "plateau".parse::<LrPolicyName>().unwrap().policy(1);
        assert!(
            plateau
                .unwrap_err()
                .to_string()
                .contains("validation metric")
        );
    }
}
