//! Convolutions on Flex: [`GemmGradConv`] by Winograd's algorithm where it applies
//! (`winograd`, `winograd4x4`, `winograd_phases`), else tap by tap (`tap_conv`), forward
//! and both gradients.

use burn::backend::TensorMetadata;
use burn::backend::ops::ModuleOps;
use burn::backend::ops::{ConvOptions, ConvTransposeOptions};
use burn::backend::tensor::FloatTensor;

use super::tap_conv::TapConv;
use super::winograd::Winograd;
use super::winograd_phases::PhasedWinograd;
use super::winograd4x4::Winograd4x4;
use crate::kernels::conv::{GemmGradConv, each_gradient};
use crate::kernels::conv_weight_grad::{transposed_weight_grad, weight_grad};

/// Flex runs the residual blocks' convolutions by Winograd's algorithm (`Winograd`), the
/// discriminator's 4×4 stride-1 layer forward by Winograd's F(2×2, 4×4) (`Winograd4x4`), its
/// 4×4 stride-2 layers forward by F(2×2, 2×2) on their phases (`PhasedWinograd`), the
/// other convolutions, the 4×4 layer's gradients and the transposed convolutions tap by tap
/// (`TapConv`), forward and backward, and the rest with its own convolution (and the matrix-product weight gradient);
/// `FlexConv::plan` chooses.
impl GemmGradConv for burn::backend::Flex {
    fn conv2d_gemm_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        // The 4×4 layers of stride 1 run forward by Winograd's F(2×2, 4×4), backward tap
        // by tap (see `kernels::winograd4x4`).
        if let Some(plan) = Winograd4x4::plan(&x, &weight, &options) {
            return plan.forward(x, weight);
        }
        // The 4×4 layers of stride 2 likewise, by F(2×2, 2×2) on the input's four phases
        // (see `kernels::winograd_phases`).
        if let Some(plan) = PhasedWinograd::plan(&x, &weight, &options) {
            return plan.forward(x, weight);
        }
        match FlexConv::plan(&x, &weight, &options) {
            Some(plan) => plan.forward(x, weight),
            None => Self::conv2d(x, weight, None, options),
        }
    }

    fn conv2d_gemm_grad_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        match FlexConv::plan(&x, &weight, &options) {
            Some(plan) => plan.input_grad(weight, grad),
            None => Self::conv2d_x_backward(x, weight, grad, options),
        }
    }

    fn conv2d_gemm_grad_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        match FlexConv::plan(&x, &weight, &options) {
            Some(plan) => plan.weight_grad(x, grad),
            None => weight_grad::<Self>(x, weight.shape().dims(), grad, &options),
        }
    }

    fn conv2d_gemm_grad_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        // The Winograd layers share the output gradient's transform; the others are the two
        // operations above.
        if let Some(plan) = Winograd::plan(&x, &weight, &options) {
            return plan.gradients(x, weight, grad);
        }
        each_gradient::<Self>(x, weight, grad, options)
    }

    fn conv_transpose2d_gemm_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        match TapConv::transposed(&x, &weight, &options) {
            Some(plan) => plan.input_grad(weight, x),
            None => Self::conv_transpose2d(x, weight, None, options),
        }
    }

    fn conv_transpose2d_gemm_grad_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        match TapConv::transposed(&x, &weight, &options) {
            Some(plan) => plan.forward(grad, weight),
            None => Self::conv_transpose2d_x_backward(weight, grad, options),
        }
    }

    fn conv_transpose2d_gemm_grad_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        match TapConv::transposed(&x, &weight, &options) {
            Some(plan) => plan.weight_grad(grad, x),
            None => transposed_weight_grad::<Self>(x, weight, grad, &options),
        }
    }
}

/// How Flex runs one convolution with this crate's kernels: by Winograd's algorithm where
/// it applies, else tap by tap where that applies (else, `None` from [`plan`](Self::plan),
/// with Burn's convolution).
enum FlexConv {
    Winograd(Winograd),
    Taps(TapConv),
}

impl FlexConv {
    /// The kernel for this convolution, in the order of preference: Winograd, then taps.
    fn plan(
        x: &FloatTensor<burn::backend::Flex>,
        weight: &FloatTensor<burn::backend::Flex>,
        options: &ConvOptions<2>,
    ) -> Option<Self> {
        Winograd::plan(x, weight, options)
            .map(Self::Winograd)
            .or_else(|| TapConv::plan(x, weight, options).map(Self::Taps))
    }

    fn forward(
        self,
        x: FloatTensor<burn::backend::Flex>,
        weight: FloatTensor<burn::backend::Flex>,
    ) -> FloatTensor<burn::backend::Flex> {
        match self {
            Self::Winograd(plan) => plan.forward(x, weight),
            Self::Taps(plan) => plan.forward(x, weight),
        }
    }

    fn input_grad(
        self,
        weight: FloatTensor<burn::backend::Flex>,
        grad: FloatTensor<burn::backend::Flex>,
    ) -> FloatTensor<burn::backend::Flex> {
        match self {
            Self::Winograd(plan) => plan.input_grad(weight, grad),
            Self::Taps(plan) => plan.input_grad(weight, grad),
        }
    }

    fn weight_grad(
        self,
        x: FloatTensor<burn::backend::Flex>,
        grad: FloatTensor<burn::backend::Flex>,
    ) -> FloatTensor<burn::backend::Flex> {
        match self {
            Self::Winograd(plan) => plan.weight_grad(x, grad),
            Self::Taps(plan) => plan.weight_grad(x, grad),
        }
    }
}
