//! ReLU, LeakyReLU and tanh as one operation each, forward and backward.
//!
//! Burn 0.22 builds `leaky_relu` from a comparison, a scaled copy and a `mask_where`, each
//! a pass on one thread and each recorded for autodiff (the backward pass is the
//! `mask_where`'s, two masked copies and a product). In a 128² training step the
//! discriminators' LeakyReLUs were the largest share of the time that the main thread
//! worked alone (`docs/benchmarks.md`). On Flex devices, [`activate`] runs instead as one
//! pass on all threads, and its backward pass as another (from the input, which it keeps,
//! as Burn's `relu` does; tanh stays Burn's there). On GPU devices each of the three is one
//! kernel launch forward and one backward (`kernels::cube`), where Burn launches two to six;
//! other backends keep Burn's functions. [`Activation`] is also what the instance norm
//! applies in its own pass
//! ([`instance_norm_activated`](super::instance_norm::instance_norm_activated)).

// Without Flex or a GPU backend, the backend extension's generated dispatch has no backend
// to hand the arguments to.
#![cfg_attr(
    not(any(feature = "flex", feature = "wgpu", feature = "cuda")),
    allow(unused_variables, unused_imports, unused_macros, dead_code)
)]

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::prelude::*;
use burn_autodiff::Autodiff;
use burn_autodiff::NodeId;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};

use super::registry::{Op, has_kernel};

/// An element-wise activation, as the official networks use them after a layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// The value as it is.
    Identity,
    /// `max(0, x)` (`nn.ReLU`).
    Relu,
    /// `x` where `x ≥ 0`, `negative_slope · x` below (`nn.LeakyReLU`; the official
    /// discriminators and U-Net encoder use a slope of 0.2).
    LeakyRelu {
        /// The factor for negative inputs.
        negative_slope: f32,
    },
    /// `tanh(x)` (`nn.Tanh`, the generators' last layer).
    Tanh,
}

impl Activation {
    /// The activation by Burn's tensor functions.
    fn burns<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Identity => x,
            Activation::Relu => burn::tensor::activation::relu(x),
            Activation::LeakyRelu { negative_slope } => {
                burn::tensor::activation::leaky_relu(x, negative_slope as f64)
            }
            Activation::Tanh => burn::tensor::activation::tanh(x),
        }
    }

    /// Whether the instance norm's kernels apply this activation in their own pass: those
    /// whose gradient depends on the sign of the norm's output only (not tanh).
    pub(crate) fn fuses_into_norm(self) -> bool {
        !matches!(self, Activation::Tanh)
    }

    /// The registry's name for running this activation with a kernel of this crate.
    fn op(self) -> Op {
        match self {
            Activation::Tanh => Op::Tanh,
            _ => Op::Activation,
        }
    }
}

/// `activation` applied to every element of `x`: one operation on Flex devices (same result
/// as Burn's `relu` / `leaky_relu`; see the [module](self) documentation), Burn's functions
/// elsewhere.
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use cyclegan_burn::kernels::{Activation, activate};
/// use cyclegan_burn::prelude::*;
/// let device = backend::cpu();
/// let x = Tensor::<1>::from_floats([-1.0, 0.0, 2.0], &device);
/// let y = activate(x, Activation::LeakyRelu { negative_slope: 0.2 });
/// assert_eq!(y.into_data().to_vec::<f32>().unwrap(), vec![-0.2, 0.0, 2.0]);
/// # }
/// ```
pub fn activate<const D: usize>(x: Tensor<D>, activation: Activation) -> Tensor<D> {
    if activation == Activation::Identity {
        return x;
    }
    if x.dtype() != burn::tensor::DType::F32 || !has_kernel(activation.op(), &x.device()) {
        return activation.burns(x);
    }
    Tensor::from_dispatch(<burn::backend::Dispatch as Activate>::activate(
        x.into_dispatch(),
        activation,
    ))
}

/// `leaky_relu(x, negative_slope)` through [`activate`].
pub fn leaky_relu<const D: usize>(x: Tensor<D>, negative_slope: f64) -> Tensor<D> {
    activate(
        x,
        Activation::LeakyRelu {
            negative_slope: negative_slope as f32,
        },
    )
}

/// An [`Activation`] as an operation of its own, so that a backend can run it (and its
/// gradient) in one pass.
#[backend_extension(
    Flex: cfg(feature = "flex"),
    Cube: cfg(any(feature = "wgpu", feature = "cuda")),
    Autodiff
)]
pub trait Activate: Backend {
    /// `activation` applied to every element of `x`.
    fn activate(x: FloatTensor<Self>, activation: Activation) -> FloatTensor<Self>;

    /// The gradient of [`activate`](Self::activate)'s input `x`, given the output's
    /// gradient `grad`.
    fn activate_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        activation: Activation,
    ) -> FloatTensor<Self>;
}

impl<B: Backend + Activate, C: CheckpointStrategy> Activate for Autodiff<B, C> {
    fn activate(x: FloatTensor<Self>, activation: Activation) -> FloatTensor<Self> {
        match ActivateBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                prep.finish(
                    (x_state, activation),
                    B::activate(x.into_primitive(), activation),
                )
            }
            OpsKind::UnTracked(prep) => prep.finish(B::activate(x.into_primitive(), activation)),
        }
    }

    fn activate_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        activation: Activation,
    ) -> FloatTensor<Self> {
        // Gradients of gradients are not needed here: the untracked result.
        <Self as burn::backend::AutodiffBackend>::from_inner(B::activate_backward(
            <Self as burn::backend::AutodiffBackend>::inner(x),
            <Self as burn::backend::AutodiffBackend>::inner(grad),
            activation,
        ))
    }
}

/// The backward pass of [`Activate::activate`] on autodiff tensors.
#[derive(Debug)]
struct ActivateBackward;

impl<B: Backend + Activate> Backward<B, 1> for ActivateBackward {
    type State = (NodeId, Activation);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, activation) = ops.state;
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::activate_backward(x, grad, activation));
        }
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    /// On Flex, [`activate`] gives what Burn's `relu` and `leaky_relu` give, output and
    /// input gradient to the bit, for tensors written on one thread and on all threads,
    /// with exact zeros among the inputs (where the two activations' gradients differ).
    #[test]
    fn activations_are_burns_to_the_bit_with_gradients() {
        let device = Device::flex().autodiff();
        for activation in [
            Activation::Relu,
            Activation::LeakyRelu {
                negative_slope: 0.2,
            },
            Activation::LeakyRelu {
                negative_slope: 0.01,
            },
        ] {
            for shape in [[1, 2, 3, 5], [2, 64, 33, 17]] {
                let x = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
                // Every seventh element an exact zero.
                let zeros = Tensor::<4, Bool>::from_data(
                    TensorData::new(
                        (0..x.shape().num_elements())
                            .map(|index| index % 7 == 0)
                            .collect::<Vec<_>>(),
                        shape,
                    ),
                    &device,
                );
                let x = x.mask_fill(zeros, 0.0);
                let weights = Tensor::<4>::random(shape, Distribution::Default, &device);
                let run = |forward: &dyn Fn(Tensor<4>) -> Tensor<4>| {
                    let x = x.clone().require_grad();
                    let y = forward(x.clone());
                    let grads = (y.clone() * weights.clone()).sum().backward();
                    (y.inner().into_data(), x.grad(&grads).unwrap().into_data())
                };
                let (y_ours, grad_ours) = run(&|x| activate(x, activation));
                let (y_burn, grad_burn) = run(&|x| activation.burns(x));
                y_ours.assert_eq(&y_burn, true);
                grad_ours.assert_eq(&grad_burn, true);
            }
        }
    }

    #[test]
    fn identity_is_the_input() {
        let device = Device::flex();
        let x = Tensor::<2>::from_floats([[-1.0, 2.0]], &device);
        let y = activate(x.clone(), Activation::Identity);
        y.into_data().assert_eq(&x.into_data(), true);
    }
}
