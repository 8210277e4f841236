//! Normalisation layers (`--norm`) and the official conv-bias rule.

use burn::nn::{BatchNorm, BatchNormConfig, Identity, InstanceNorm, InstanceNormConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::init::WeightInit;
use crate::kernels::{Activation, activate};

/// Normalisation used inside the networks.
///
/// The official CycleGAN default is [`Norm::Instance`]: `InstanceNorm2d(affine=False,
/// track_running_stats=False)`, biased variance, eps 1e-5. (Burn's own `InstanceNormConfig`
/// defaults to `affine = true`; this crate never uses that default.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Norm {
    /// Instance norm without learnable scale and shift (`--norm instance`, the default).
    #[default]
    Instance,
    /// Instance norm with a learnable scale and shift (found in some community checkpoints).
    InstanceAffine,
    /// Batch norm with learnable scale and shift and running statistics (`--norm batch`).
    Batch,
    /// No normalisation (`--norm none`).
    None,
}

crate::names::official_names!(Norm, "norm", {
    Instance => "instance",
    InstanceAffine => "instance_affine",
    Batch => "batch",
    None => "none",
});

impl Norm {
    /// The official `use_bias` rule: convolutions followed by a norm layer carry a bias
    /// exactly when the norm is an instance norm (a batch norm's shift makes it redundant,
    /// and with no norm the official code also leaves it out).
    pub fn conv_bias(self) -> bool {
        matches!(self, Norm::Instance | Norm::InstanceAffine)
    }

    /// Builds the norm layer for `channels` channels.
    pub fn init(self, channels: usize, weights: &mut WeightInit, device: &Device) -> NormLayer {
        match self {
            Norm::Instance | Norm::InstanceAffine => NormLayer::Instance(
                InstanceNormConfig::new(channels)
                    .with_affine(self == Norm::InstanceAffine)
                    .with_epsilon(1e-5)
                    .init(device),
            ),
            Norm::Batch => {
                let mut batch = BatchNormConfig::new(channels)
                    .with_epsilon(1e-5)
                    .with_momentum(0.1)
                    .init(device);
                batch.gamma = weights.batch_norm_gamma(channels, device);
                NormLayer::Batch(batch)
            }
            Norm::None => NormLayer::Identity(Identity::new()),
        }
    }
}

/// A norm layer as built by [`Norm::init`].
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum NormLayer {
    /// Instance norm (affine or not).
    Instance(InstanceNorm),
    /// Batch norm: batch statistics when training on an autodiff device, running
    /// statistics otherwise.
    Batch(BatchNorm),
    /// No normalisation.
    Identity(Identity),
}

impl NormLayer {
    /// Normalises `[N, C, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            NormLayer::Instance(norm) => crate::kernels::instance_norm(norm, x),
            NormLayer::Batch(norm) => norm.forward(x),
            NormLayer::Identity(_) => x,
        }
    }

    /// `residual + forward(x)`, the end of a residual block: for an instance norm without
    /// affine parameters, one operation on GPU devices
    /// ([`instance_norm_residual`](crate::kernels::instance_norm_residual)).
    pub fn forward_residual(&self, x: Tensor<4>, residual: Tensor<4>) -> Tensor<4> {
        match self {
            NormLayer::Instance(norm) => crate::kernels::instance_norm_residual(norm, x, residual),
            _ => residual + self.forward(x),
        }
    }

    /// `activation(forward(x))`: for an instance norm without affine parameters, one
    /// operation on Flex devices
    /// ([`instance_norm_activated`](crate::kernels::instance_norm_activated)).
    pub fn forward_activated(&self, x: Tensor<4>, activation: Activation) -> Tensor<4> {
        match self {
            NormLayer::Instance(norm) => {
                crate::kernels::instance_norm_activated(norm, x, activation)
            }
            _ => activate(self.forward(x), activation),
        }
    }

    /// `relu(forward(x))` (see [`forward_activated`](Self::forward_activated)).
    pub fn forward_relu(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_activated(x, Activation::Relu)
    }

    /// Whether this layer normalises at all.
    pub fn is_identity(&self) -> bool {
        matches!(self, NormLayer::Identity(_))
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::super::InitType;
    use super::*;
    use burn::tensor::{Distribution, Tolerance};

    /// Instance norm through [`NormLayer`] (this crate's operation on Flex, with the ReLU or
    /// LeakyReLU fused into it or not) gives what Burn's module (and activation) gives:
    /// output, input gradient, and the affine parameters' gradients.
    #[test]
    fn instance_norm_matches_burns_module_with_gradients() {
        let device = Device::flex().autodiff();
        let leaky = Activation::LeakyRelu {
            negative_slope: 0.2,
        };
        // (affine, activation, shape): planes from one element to more than one run of the
        // statistics' lanes (1,024 elements), and tensors written on all threads.
        for (affine, activation, shape) in [
            (false, Activation::Identity, [2, 3, 5, 7]),
            (true, Activation::Identity, [1, 4, 6, 6]),
            (false, Activation::Identity, [1, 16, 1, 1]),
            (true, Activation::Identity, [3, 2, 1, 9]),
            (false, Activation::Relu, [2, 3, 5, 7]),
            (true, Activation::Relu, [1, 4, 6, 6]),
            (false, Activation::Relu, [1, 2, 40, 37]),
            (false, Activation::Identity, [1, 2, 40, 37]),
            (false, leaky, [2, 3, 5, 7]),
            (true, leaky, [1, 4, 6, 6]),
            (false, leaky, [1, 2, 40, 37]),
            // Large enough to be written on all threads, planes smaller than a share.
            (false, Activation::Relu, [2, 96, 19, 21]),
            (false, leaky, [2, 96, 19, 21]),
        ] {
            let norm = if affine {
                Norm::InstanceAffine
            } else {
                Norm::Instance
            };
            let layer = norm.init(
                shape[1],
                &mut WeightInit::new(InitType::Normal, 0.02, 3),
                &device,
            );
            let NormLayer::Instance(module) = &layer else {
                panic!("an instance norm layer");
            };
            let x = Tensor::<4>::random(shape, Distribution::Normal(0.5, 2.0), &device);
            let weights = Tensor::<4>::random(shape, Distribution::Default, &device);
            let run = |forward: &dyn Fn(Tensor<4>) -> Tensor<4>| {
                let x = x.clone().require_grad();
                let y = forward(x.clone());
                let grads = (y.clone() * weights.clone()).sum().backward();
                let mut values = vec![y.inner().into_data(), x.grad(&grads).unwrap().into_data()];
                if let (Some(gamma), Some(beta)) = (&module.gamma, &module.beta) {
                    values.push(gamma.val().grad(&grads).unwrap().into_data());
                    values.push(beta.val().grad(&grads).unwrap().into_data());
                }
                values
            };
            let ours = match activation {
                Activation::Identity => run(&|x| layer.forward(x)),
                Activation::Relu => run(&|x| layer.forward_relu(x)),
                _ => run(&|x| layer.forward_activated(x, activation)),
            };
            let burns = run(&|x| {
                let y = module.forward(x);
                match activation {
                    Activation::Identity => y,
                    Activation::Relu => burn::tensor::activation::relu(y),
                    Activation::LeakyRelu { negative_slope } => {
                        burn::tensor::activation::leaky_relu(y, negative_slope as f64)
                    }
                    Activation::Tanh => burn::tensor::activation::tanh(y),
                }
            });
            assert_eq!(ours.len(), if affine { 4 } else { 2 });
            for (ours, burns) in ours.iter().zip(&burns) {
                ours.assert_approx_eq::<f32>(burns, Tolerance::absolute(1e-4));
            }
        }
    }
}
