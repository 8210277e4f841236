//! The backward pass of [`GemmGradConv`](super::conv::GemmGradConv) on autodiff tensors:
//! the forward pass recorded with its input and weight, and a backward step that calls the
//! extension's input- and weight-gradient operations (the one returning both when both are
//! needed, so that a kernel can share their work).

use burn::backend::Backend;
use burn::backend::ops::{ConvOptions, ConvTransposeOptions};
use burn::backend::tensor::FloatTensor;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_autodiff::{Autodiff, NodeId};

use super::conv::GemmGradConv;

impl<B: Backend + GemmGradConv, C: CheckpointStrategy> GemmGradConv for Autodiff<B, C> {
    fn conv2d_gemm_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        tracked::<B, C, _>(x, weight, options)
    }

    fn conv2d_gemm_grad_biased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        match BiasedConvBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                prep.finish(
                    (x_state, weight_state, options.clone()),
                    B::conv2d_gemm_grad_biased(
                        x.into_primitive(),
                        weight.into_primitive(),
                        bias.into_primitive(),
                        options,
                    ),
                )
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv2d_gemm_grad_biased(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                options,
            )),
        }
    }

    fn conv_transpose2d_gemm_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        tracked::<B, C, _>(x, weight, options)
    }
}

/// A layer of [`GemmGradConv`], named by its options: which of the extension's operations
/// give its forward pass, input gradient and weight gradient.
trait GemmGradLayer: Clone + Send + core::fmt::Debug + 'static {
    fn forward<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B>;

    fn input_grad<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B>;

    fn weight_grad<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B>;

    /// Both gradients, `(input's, weight's)`, when both are needed.
    fn gradients<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> (FloatTensor<B>, FloatTensor<B>) {
        let weight_grad =
            Self::weight_grad::<B>(x.clone(), weight.clone(), grad.clone(), options.clone());
        (Self::input_grad::<B>(x, weight, grad, options), weight_grad)
    }
}

impl GemmGradLayer for ConvOptions<2> {
    fn forward<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B> {
        B::conv2d_gemm_grad(x, weight, options)
    }

    fn input_grad<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B> {
        B::conv2d_gemm_grad_x_backward(x, weight, grad, options)
    }

    fn weight_grad<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B> {
        B::conv2d_gemm_grad_weight_backward(x, weight, grad, options)
    }

    fn gradients<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> (FloatTensor<B>, FloatTensor<B>) {
        B::conv2d_gemm_grad_backward(x, weight, grad, options)
    }
}

impl GemmGradLayer for ConvTransposeOptions<2> {
    fn forward<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B> {
        B::conv_transpose2d_gemm_grad(x, weight, options)
    }

    fn input_grad<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B> {
        B::conv_transpose2d_gemm_grad_x_backward(x, weight, grad, options)
    }

    fn weight_grad<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B> {
        B::conv_transpose2d_gemm_grad_weight_backward(x, weight, grad, options)
    }
}

/// The backward pass of a [`GemmGradLayer`].
#[derive(Debug)]
struct GemmGradBackward<O>(core::marker::PhantomData<O>);

impl<B: Backend + GemmGradConv, O: GemmGradLayer> Backward<B, 2> for GemmGradBackward<O> {
    type State = (NodeId, NodeId, O);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state, options) = ops.state;
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
        let weight = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(weight_state);
        register_gradients::<B, O>(
            grads,
            node_x.map(|node| node.id),
            node_weight.map(|node| node.id),
            x,
            weight,
            grad,
            options,
        );
    }
}

/// The backward pass of [`GemmGradConv::conv2d_gemm_grad_biased`]: the convolution's two
/// gradients as [`GemmGradBackward`] computes them, and the bias's.
#[derive(Debug)]
struct BiasedConvBackward;

impl<B: Backend + GemmGradConv> Backward<B, 3> for BiasedConvBackward {
    type State = (NodeId, NodeId, ConvOptions<2>);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state, options) = ops.state;
        if let Some(node) = node_bias {
            grads.register::<B>(node.id, B::conv2d_gemm_grad_bias_backward(grad.clone()));
        }
        if node_x.is_none() && node_weight.is_none() {
            return;
        }
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
        let weight = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(weight_state);
        register_gradients::<B, _>(
            grads,
            node_x.map(|node| node.id),
            node_weight.map(|node| node.id),
            x,
            weight,
            grad,
            options,
        );
    }
}

/// The input's and weight's gradients of layer `O`, for whichever of the two nodes is
/// tracked, registered.
fn register_gradients<B: Backend + GemmGradConv, O: GemmGradLayer>(
    grads: &mut Gradients,
    node_x: Option<NodeId>,
    node_weight: Option<NodeId>,
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    grad: FloatTensor<B>,
    options: O,
) {
    match (node_x, node_weight) {
        (Some(node_x), Some(node_weight)) => {
            let (input_grad, weight_grad) = O::gradients::<B>(x, weight, grad, options);
            grads.register::<B>(node_weight, weight_grad);
            grads.register::<B>(node_x, input_grad);
        }
        (None, Some(node)) => {
            grads.register::<B>(node, O::weight_grad::<B>(x, weight, grad, options));
        }
        (Some(node), None) => {
            grads.register::<B>(node, O::input_grad::<B>(x, weight, grad, options));
        }
        (None, None) => {}
    }
}

/// The layer `O` on autodiff tensors, recording [`GemmGradBackward`] when tracked.
fn tracked<B: Backend + GemmGradConv, C: CheckpointStrategy, O: GemmGradLayer>(
    x: FloatTensor<Autodiff<B, C>>,
    weight: FloatTensor<Autodiff<B, C>>,
    options: O,
) -> FloatTensor<Autodiff<B, C>> {
    match GemmGradBackward::<O>(core::marker::PhantomData)
        .prepare::<C>([x.node(), weight.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
            let x_state = prep.checkpoint(&x);
            let weight_state = prep.checkpoint(&weight);
            prep.finish(
                (x_state, weight_state, options.clone()),
                O::forward::<B>(x.into_primitive(), weight.into_primitive(), options),
            )
        }
        OpsKind::UnTracked(prep) => prep.finish(O::forward::<B>(
            x.into_primitive(),
            weight.into_primitive(),
            options,
        )),
    }
}
