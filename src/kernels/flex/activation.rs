//! ReLU and LeakyReLU on Flex: one pass on all threads, forward and backward, written over
//! a [`Pointwise`] type per activation so that the loops vectorise.

use burn::backend::tensor::FloatTensor;

use super::flex_tensor::{f32_slice, filled_by_chunks, from_vec};
use crate::kernels::activation::{Activate, Activation};
use crate::kernels::simd::{Vectorized, vectorized};

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
                let $function = $crate::kernels::flex::activation::IdentityFn;
                $body
            }
            $crate::kernels::activation::Activation::Relu => {
                let $function = $crate::kernels::flex::activation::ReluFn;
                $body
            }
            $crate::kernels::activation::Activation::LeakyRelu { negative_slope } => {
                let $function = $crate::kernels::flex::activation::LeakyReluFn(negative_slope);
                $body
            }
            $crate::kernels::activation::Activation::Tanh => {
                unreachable!("Flex runs Burn's tanh, and no norm fuses it (`Activation::op`, `fuses_into_norm`)")
            }
        }
    };
}
pub(crate) use with_pointwise;

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
struct PointwiseForward<'a, F> {
    function: F,
    input: &'a [f32],
    output: &'a mut [f32],
}

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
struct PointwiseBackward<'a, F> {
    function: F,
    input: &'a [f32],
    grad: &'a [f32],
    input_grad: &'a mut [f32],
}

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
const CHUNK: usize = 1 << 14;
