//! Instance normalisation on Flex: one pass for a plane's statistics and one for its output,
//! planes shared among the threads, forward and backward, with the activation fused in.

use burn::backend::tensor::FloatTensor;

use super::activation::{Pointwise, with_pointwise};
use super::flex_tensor::{f32_slice, filled_by_chunks, from_vec};
use crate::kernels::activation::Activation;
use crate::kernels::instance_norm::InstanceNorm2d;
use crate::kernels::simd::{Vectorized, vectorized};

impl InstanceNorm2d for burn::backend::Flex {
    fn instance_norm2d(
        x: FloatTensor<Self>,
        epsilon: f64,
        activation: Activation,
    ) -> FloatTensor<Self> {
        let shape: [usize; 4] = burn::backend::TensorMetadata::shape(&x).dims();
        let plane = shape[2] * shape[3];
        let x = x.to_contiguous();
        let input = f32_slice(&x);
        let output = with_pointwise!(activation, |function| {
            filled_by_chunks(input.len(), plane, move |index, output| {
                let input = &input[index * plane..][..plane];
                vectorized(NormPlane {
                    function,
                    input,
                    output,
                    epsilon,
                })
            })
        });
        from_vec(output, shape)
    }

    fn instance_norm2d_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        epsilon: f64,
        activation: Activation,
    ) -> FloatTensor<Self> {
        let shape: [usize; 4] = burn::backend::TensorMetadata::shape(&x).dims();
        let plane = shape[2] * shape[3];
        let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
        let input = f32_slice(&x);
        let grad = f32_slice(&grad);
        let input_grad = with_pointwise!(activation, |function| {
            filled_by_chunks(input.len(), plane, move |index, input_grad| {
                let (input, grad) = (
                    &input[index * plane..][..plane],
                    &grad[index * plane..][..plane],
                );
                vectorized(NormPlaneBackward {
                    function,
                    input,
                    grad,
                    input_grad,
                    epsilon,
                })
            })
        });
        from_vec(input_grad, shape)
    }
}

/// One plane normalised, then activated.
struct NormPlane<'a, F> {
    function: F,
    input: &'a [f32],
    output: &'a mut [f32],
    epsilon: f64,
}

impl<F: Pointwise> Vectorized for NormPlane<'_, F> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let (mean, inverse_std) = statistics(self.input, self.epsilon);
        for (output, &input) in self.output.iter_mut().zip(self.input) {
            *output = self.function.forward((input - mean) * inverse_std);
        }
    }
}

/// The gradient of one plane's input, given its output's (through the activation).
struct NormPlaneBackward<'a, F> {
    function: F,
    input: &'a [f32],
    grad: &'a [f32],
    input_grad: &'a mut [f32],
    epsilon: f64,
}

impl<F: Pointwise> Vectorized for NormPlaneBackward<'_, F> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let (function, input, grad) = (self.function, self.input, self.grad);
        let (mean, inverse_std) = statistics(input, self.epsilon);
        // The gradient reaching the norm's output, through the activation: `x̂` has the
        // sign of `input − mean`.
        let masked = move |input: f32, grad: f32| function.backward(input - mean, grad);
        let [grad_sum, grad_dot_centred] = lane_sums(input, grad, move |input, grad| {
            let grad = masked(input, grad);
            [grad, grad * (input - mean)]
        });
        let count = input.len().max(1) as f64;
        let grad_mean = (grad_sum / count) as f32;
        let grad_dot_mean = (grad_dot_centred * inverse_std as f64 / count) as f32;
        for ((input_grad, &input), &grad) in self.input_grad.iter_mut().zip(input).zip(grad) {
            let normalised = (input - mean) * inverse_std;
            *input_grad =
                inverse_std * (masked(input, grad) - grad_mean - normalised * grad_dot_mean);
        }
    }
}

/// The mean and `1 / sqrt(biased variance + epsilon)` of one plane, in one pass: the sums of
/// `x − x₀` and `(x − x₀)²` (`x₀` the plane's first value, against cancellation) in `f32`
/// lanes, combined in `f64`.
#[inline(always)]
fn statistics(plane: &[f32], epsilon: f64) -> (f32, f32) {
    let Some(&origin) = plane.first() else {
        return (0.0, (1.0 / epsilon.sqrt()) as f32);
    };
    let [sum, squares] = lane_sums(plane, plane, move |value, _| {
        let centred = value - origin;
        [centred, centred * centred]
    });
    let count = plane.len() as f64;
    let shifted_mean = sum / count;
    let variance = (squares / count - shifted_mean * shifted_mean).max(0.0);
    (
        (origin as f64 + shifted_mean) as f32,
        (1.0 / (variance + epsilon).sqrt()) as f32,
    )
}

/// `Σ term(a[i], b[i])` for both components of `term`, accumulated in 16 `f32` lanes over
/// runs of at most 1,024 elements (which the compiler vectorises) and in `f64` across runs.
///
/// Each component is summed in a pass of its own over the run (which stays in the L1
/// cache): with both sums in one loop, the compiler paired each lane's two components in
/// two-wide vectors with scalar loads instead of keeping each component's 16 lanes in vector
/// registers, in some builds and not others, and the backward pass ran three times slower.
#[inline(always)]
fn lane_sums(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> [f32; 2] + Copy) -> [f64; 2] {
    let mut total = [0.0f64; 2];
    for (a, b) in a.chunks(1024).zip(b.chunks(1024)) {
        total[0] += lane_sum(a, b, move |a, b| term(a, b)[0]);
        total[1] += lane_sum(a, b, move |a, b| term(a, b)[1]);
    }
    total
}

/// `Σ term(a[i], b[i])` over one run, in 16 `f32` lanes (lane `i mod 16` takes element `i`),
/// then the lanes summed in `f64`.
#[inline(always)]
fn lane_sum(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f32) -> f64 {
    const LANES: usize = 16;
    let mut lanes = [0.0f32; LANES];
    let (a_lanes, a_rest) = a.as_chunks::<LANES>();
    let (b_lanes, b_rest) = b.as_chunks::<LANES>();
    for (a, b) in a_lanes.iter().zip(b_lanes) {
        for lane in 0..LANES {
            lanes[lane] += term(a[lane], b[lane]);
        }
    }
    for (&a, &b) in a_rest.iter().zip(b_rest) {
        lanes[0] += term(a, b);
    }
    lanes.iter().map(|&lane| lane as f64).sum::<f64>()
}
