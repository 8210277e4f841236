//! ReLU and LeakyReLU as one operation each, forward and backward.
//!
//! Burn 0.22 builds `leaky_relu` from a comparison, a scaled copy and a `mask_where`, each
//! a pass on one thread and each recorded for autodiff (the backward pass is the
//! `mask_where`'s, two masked copies and a product). In a 128² training step the
//! discriminators' LeakyReLUs were the largest share of the time that the main thread
//! worked alone (`docs/benchmarks.md`). On Flex devices, [`activate`] runs instead as one
//! pass on all threads, and its backward pass as another (from the input, which it keeps,
//! as Burn's `relu` does); other backends keep Burn's functions. [`Activation`] is also
//! what the instance norm applies in its own pass
//! ([`instance_norm_activated`](super::instance_norm::instance_norm_activated)).

// Without Flex, the backend extension's generated dispatch has no backend to hand the
// arguments to, and the Flex kernels' helpers go unused.
#![cfg_attr(
    not(feature = "flex"),
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

#[cfg(feature = "flex")]
use super::flex_tensor::{f32_slice, filled_by_chunks, from_vec};
use super::registry::{Op, has_kernel};
#[cfg(feature = "flex")]
use super::simd::{Vectorized, vectorized};

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
        }
    }
}

/// One activation's arithmetic on one value, as a type of its own: loops written over a
/// `Pointwise` are compiled once per activation and vectorise, where a `match` on an
/// [`Activation`] inside the loop would run per element (measured: scalar code).
pub(crate) trait Pointwise: Copy + Send + Sync {
    /// The activation of `x`, as Burn computes it (`relu`: `max(0, x)`; `leaky_relu`:
    /// `x · slope` where `x < 0`).
    fn forward(self, x: f32) -> f32;

    /// The gradient reaching the activation's input `x` (or any value of its sign), given
    /// the gradient `grad` of its output. As Burn's: ReLU passes the gradient where `x` is
    /// above zero, LeakyReLU scales it where `x` is below.
    fn backward(self, x: f32, grad: f32) -> f32;
}

/// [`Activation::Identity`] as a [`Pointwise`].
#[derive(Clone, Copy)]
pub(crate) struct IdentityFn;

/// [`Activation::Relu`] as a [`Pointwise`].
#[derive(Clone, Copy)]
pub(crate) struct ReluFn;

/// [`Activation::LeakyRelu`] as a [`Pointwise`], with its negative slope.
#[derive(Clone, Copy)]
pub(crate) struct LeakyReluFn(pub(crate) f32);

impl Pointwise for IdentityFn {
    #[inline(always)]
    fn forward(self, x: f32) -> f32 {
        x
    }

    #[inline(always)]
    fn backward(self, _x: f32, grad: f32) -> f32 {
        grad
    }
}

impl Pointwise for ReluFn {
    #[inline(always)]
    fn forward(self, x: f32) -> f32 {
        x.max(0.0)
    }

    #[inline(always)]
    fn backward(self, x: f32, grad: f32) -> f32 {
        if x <= 0.0 { 0.0 } else { grad }
    }
}

impl Pointwise for LeakyReluFn {
    #[inline(always)]
    fn forward(self, x: f32) -> f32 {
        // Both sides computed, then one chosen: a select, which vectorises.
        let scaled = x * self.0;
        if x < 0.0 { scaled } else { x }
    }

    #[inline(always)]
    fn backward(self, x: f32, grad: f32) -> f32 {
        let scaled = grad * self.0;
        if x < 0.0 { scaled } else { grad }
    }
}

/// `$body` with `$function` bound to the [`Pointwise`] of the activation `$activation`:
/// the body is compiled once per kind of activation. (Closures in the body should take
/// `$function` by value, `move`: read through a reference, the slope is reloaded for every
/// element and the loop does not vectorise.)
macro_rules! with_pointwise {
    ($activation:expr, |$function:ident| $body:expr) => {
        match $activation {
            $crate::kernels::activation::Activation::Identity => {
                let $function = $crate::kernels::activation::IdentityFn;
                $body
            }
            $crate::kernels::activation::Activation::Relu => {
                let $function = $crate::kernels::activation::ReluFn;
                $body
            }
            $crate::kernels::activation::Activation::LeakyRelu { negative_slope } => {
                let $function = $crate::kernels::activation::LeakyReluFn(negative_slope);
                $body
            }
        }
    };
}
pub(crate) use with_pointwise;

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
    if x.dtype() != burn::tensor::DType::F32 || !has_kernel(Op::Activation, &x.device()) {
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
#[backend_extension(Flex: cfg(feature = "flex"), Autodiff)]
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

#[cfg(feature = "flex")]
impl Activate for burn::backend::Flex {
    fn activate(x: FloatTensor<Self>, activation: Activation) -> FloatTensor<Self> {
        let x = x.to_contiguous();
        let input = f32_slice(&x);
        let output = with_pointwise!(activation, |function| {
            filled_by_chunks(input.len(), CHUNK, move |index, output| {
                let input = &input[index * CHUNK..][..output.len()];
                vectorized(PointwiseForward {
                    function,
                    input,
                    output,
                })
            })
        });
        from_vec(output, burn::backend::TensorMetadata::shape(&x))
    }

    fn activate_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        activation: Activation,
    ) -> FloatTensor<Self> {
        let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
        let (input, grads) = (f32_slice(&x), f32_slice(&grad));
        let input_grad = with_pointwise!(activation, |function| {
            filled_by_chunks(input.len(), CHUNK, move |index, input_grad| {
                let input = &input[index * CHUNK..][..input_grad.len()];
                let grads = &grads[index * CHUNK..][..input_grad.len()];
                vectorized(PointwiseBackward {
                    function,
                    input,
                    grad: grads,
                    input_grad,
                })
            })
        });
        from_vec(input_grad, burn::backend::TensorMetadata::shape(&x))
    }
}

/// `output = function(input)`, element by element.
#[cfg(feature = "flex")]
struct PointwiseForward<'a, F> {
    function: F,
    input: &'a [f32],
    output: &'a mut [f32],
}

#[cfg(feature = "flex")]
impl<F: Pointwise> Vectorized for PointwiseForward<'_, F> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        for (output, &input) in self.output.iter_mut().zip(self.input) {
            *output = self.function.forward(input);
        }
    }
}

/// `input_grad = function'(input) · grad`, element by element.
#[cfg(feature = "flex")]
struct PointwiseBackward<'a, F> {
    function: F,
    input: &'a [f32],
    grad: &'a [f32],
    input_grad: &'a mut [f32],
}

#[cfg(feature = "flex")]
impl<F: Pointwise> Vectorized for PointwiseBackward<'_, F> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let pairs = self.input.iter().zip(self.grad);
        for (input_grad, (&input, &grad)) in self.input_grad.iter_mut().zip(pairs) {
            *input_grad = self.function.backward(input, grad);
        }
    }
}

/// Elements that one thread takes at a time.
#[cfg(feature = "flex")]
const CHUNK: usize = 1 << 14;

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
