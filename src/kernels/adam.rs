//! The official Adam as one pass over each parameter on Flex and GPU devices.
//!
//! Burn 0.22's `Adam` updates a parameter through about a dozen element-wise tensor
//! operations (the two moments, the bias corrections, the square root, the division, the
//! step), each a pass over the parameter on one thread; the two generators of the default
//! CycleGAN have 11.4 M parameters each. [`FusedAdam`] does the same arithmetic, in the same
//! order and in `f32`, in one pass shared among the threads, so its results are Burn's to
//! the bit (the unit test below checks). It keeps Burn's state type ([`AdamState`]), so
//! optimizer checkpoints are the same either way. On GPU devices the same arithmetic is one
//! kernel launch per parameter where Burn's `Adam` launches 13 (`kernels::cube`). Other
//! backends run Burn's `Adam`.

// Without Flex, the backend extension's generated dispatch has no backend to hand the
// arguments to.
#![cfg_attr(not(feature = "flex"), allow(unused_variables, unused_imports))]

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::optim::{
    Adam, AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer,
};
use burn::prelude::*;
use burn::tensor::DType;

use super::registry::{Op, has_kernel};

/// Adam without weight decay or AMSGrad: `β₁`, `β₂` and `ε` as PyTorch's `torch.optim.Adam`
/// takes them. A [`ModuleOptimizer`] is made with [`FusedAdam::init`].
#[derive(Clone)]
pub(crate) struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    /// Burn's Adam with the same settings, for the backends this crate has no pass for.
    burn: Adam,
}

impl FusedAdam {
    pub(crate) fn new(beta_1: f32, beta_2: f32, epsilon: f32) -> Self {
        let burn = AdamConfig::new()
            .with_beta_1(beta_1)
            .with_beta_2(beta_2)
            .with_epsilon(epsilon)
            .build();
        Self {
            beta_1,
            beta_2,
            epsilon,
            burn,
        }
    }

    /// The optimizer of a whole module.
    pub(crate) fn init(self) -> ModuleOptimizer {
        ModuleOptimizer::from(self)
    }
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let fused = has_kernel(Op::AdamUpdate, &tensor.device())
            && [&tensor, &grad].iter().all(|t| t.dtype() == DType::F32)
            && grad.shape() == tensor.shape()
            && state.as_ref().is_none_or(|state| {
                let momentum = &state.momentum;
                momentum.max_moment_2.is_none()
                    && [&momentum.moment_1, &momentum.moment_2]
                        .iter()
                        .all(|t| t.dtype() == DType::F32 && t.shape() == tensor.shape())
            });
        if !fused {
            return self.burn.step(lr, tensor, grad, state);
        }
        let (time, moment_1, moment_2) = match state {
            Some(state) => (
                state.momentum.time + 1,
                state.momentum.moment_1,
                state.momentum.moment_2,
            ),
            None => (1, tensor.zeros_like(), tensor.zeros_like()),
        };
        let (tensor, moment_1, moment_2) = <burn::backend::Dispatch as AdamUpdate>::adam_update(
            tensor.into_dispatch(),
            grad.into_dispatch(),
            moment_1.into_dispatch(),
            moment_2.into_dispatch(),
            lr,
            [self.beta_1, self.beta_2, self.epsilon].map(f64::from),
            time,
        );
        let (tensor, moment_1, moment_2) = (
            Tensor::<D>::from_dispatch(tensor),
            Tensor::<D>::from_dispatch(moment_1),
            Tensor::<D>::from_dispatch(moment_2),
        );
        let momentum = AdaptiveMomentumState::new(time, moment_1, moment_2);
        (tensor, Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        <Adam as Optimizer>::to_device(state, device)
    }
}

/// One Adam step of a parameter: the parameter, first moment and second moment after it.
#[backend_extension(
    Flex: cfg(feature = "flex"),
    Cube: cfg(any(feature = "wgpu", feature = "cuda")))]
pub trait AdamUpdate: Backend {
    /// `betas_epsilon` holds `β₁`, `β₂` and `ε`; `time` is the step number, from 1;
    /// `moment_1` and `moment_2` are zero before the first step.
    fn adam_update(
        tensor: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        moment_1: FloatTensor<Self>,
        moment_2: FloatTensor<Self>,
        lr: f64,
        betas_epsilon: [f64; 3],
        time: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// The scalars of one Adam update: Burn's `AdaptiveMomentum::transform`, term by term.
#[derive(Clone, Copy)]
pub(crate) struct AdamTerms {
    pub(crate) lr: f32,
    pub(crate) beta_1: f32,
    pub(crate) beta_2: f32,
    /// `1 − beta_1`.
    pub(crate) factor_1: f32,
    /// `1 − beta_2`.
    pub(crate) factor_2: f32,
    /// `sqrt(1 − beta_2^t) / (1 − beta_1^t)`.
    pub(crate) combined_factor: f32,
    /// `epsilon · sqrt(1 − beta_2^t)`.
    pub(crate) epsilon: f32,
}

impl AdamTerms {
    pub(crate) fn new(lr: f64, betas_epsilon: [f64; 3], time: usize) -> Self {
        let [beta_1, beta_2, epsilon] = betas_epsilon.map(|value| value as f32);
        let time = time as i32;
        let bias_correction2_sqrt = (1.0 - beta_2.powi(time)).sqrt();
        Self {
            lr: lr as f32,
            beta_1,
            beta_2,
            factor_1: 1.0 - beta_1,
            factor_2: 1.0 - beta_2,
            combined_factor: bias_correction2_sqrt / (1.0 - beta_1.powi(time)),
            epsilon: epsilon * bias_correction2_sqrt,
        }
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn values<const D: usize>(tensor: &Tensor<D>) -> Vec<f32> {
        tensor.to_data().try_to_vec::<f32>().unwrap()
    }

    /// Five steps of both optimizers from the same start (one buffer shared by both, and by
    /// a third handle that must not change), on a parameter of several threads' shares
    /// (not a multiple of one), with gradients of mixed scales: parameters and both moments
    /// equal to the bit, and the step count alike.
    #[test]
    fn fused_adam_is_burns_adam_to_the_bit() {
        let device = crate::backend::cpu();
        assert!(has_kernel(Op::AdamUpdate, &device));
        let fused = FusedAdam::new(0.5, 0.999, 1e-8);
        let shape = [3, super::super::flex::adam::CHUNK + 77];
        let start = Tensor::<2>::random(shape, Distribution::Normal(0.0, 0.02), &device);
        let (kept, initial) = (start.clone(), values(&start));
        let (mut ours, mut burns) = (start.clone(), start);
        let (mut our_state, mut burn_state) = (None, None);
        for step in 0..5 {
            let scale = [1.0, 1e-3, 10.0, 1e-6, 0.5][step];
            let grad = Tensor::<2>::random(shape, Distribution::Normal(0.0, scale), &device);
            let lr = 2e-4 * (1.0 - step as f64 / 10.0);
            (ours, our_state) = fused.step(lr, ours, grad.clone(), our_state);
            (burns, burn_state) = fused.burn.step(lr, burns, grad, burn_state);
            assert_eq!(values(&ours), values(&burns), "parameter after step {step}");
            let (a, b): (&AdamState<2>, &AdamState<2>) =
                (our_state.as_ref().unwrap(), burn_state.as_ref().unwrap());
            assert_eq!(a.momentum.time, b.momentum.time);
            assert_eq!(values(&a.momentum.moment_1), values(&b.momentum.moment_1));
            assert_eq!(values(&a.momentum.moment_2), values(&b.momentum.moment_2));
            assert_eq!(ours.shape(), burns.shape());
        }
        assert_ne!(values(&ours), initial);
        // The update runs in place only on buffers it owns alone.
        assert_eq!(values(&kept), initial);
    }
}
