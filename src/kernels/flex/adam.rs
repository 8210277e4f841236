//! The Adam update on Flex: one pass over each parameter, shared among the threads, in place
//! where the pass owns the buffers.

use burn::backend::tensor::FloatTensor;

use crate::kernels::adam::{AdamTerms, AdamUpdate};

/// Elements per share of a parameter among the threads.
pub(crate) const CHUNK: usize = 1 << 14;

impl AdamUpdate for burn::backend::Flex {
    fn adam_update(
        tensor: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        moment_1: FloatTensor<Self>,
        moment_2: FloatTensor<Self>,
        lr: f64,
        betas_epsilon: [f64; 3],
        time: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        use super::flex_tensor::f32_slice;
        use rayon::prelude::*;

        let terms = AdamTerms::new(lr, betas_epsilon, time);
        let grad = grad.to_contiguous();
        let grad = f32_slice(&grad);
        // The parameter and moments are updated where they lie when this pass owns them
        // (the moments, as a rule), else in a copy: no zeroed buffers to fault in.
        let [mut tensor, mut moment_1, mut moment_2] = [tensor, moment_1, moment_2].map(owned);
        let (values, first, second) = (
            tensor.storage_mut::<f32>(),
            moment_1.storage_mut::<f32>(),
            moment_2.storage_mut::<f32>(),
        );
        values
            .par_chunks_mut(CHUNK)
            .zip(first.par_chunks_mut(CHUNK))
            .zip(second.par_chunks_mut(CHUNK))
            .zip(grad.par_chunks(CHUNK))
            .for_each(|(((values, first), second), grad)| {
                crate::kernels::simd::vectorized(AdamChunk {
                    values,
                    first,
                    second,
                    grad,
                    terms,
                })
            });
        (tensor, moment_1, moment_2)
    }
}

/// The Adam update of one chunk of a parameter and its moments, in place.
struct AdamChunk<'a> {
    values: &'a mut [f32],
    first: &'a mut [f32],
    second: &'a mut [f32],
    grad: &'a [f32],
    terms: AdamTerms,
}

impl crate::kernels::simd::Vectorized for AdamChunk<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let t = self.terms;
        let moments = self.first.iter_mut().zip(self.second.iter_mut());
        for ((value, (first, second)), &g) in self.values.iter_mut().zip(moments).zip(self.grad) {
            let m = *first * t.beta_1 + g * t.factor_1;
            let v = *second * t.beta_2 + g * g * t.factor_2;
            let update = m * t.combined_factor / (v.sqrt() + t.epsilon);
            *value -= update * t.lr;
            *first = m;
            *second = v;
        }
    }
}

/// `tensor` with a contiguous `f32` storage of its own elements only, itself when it has one.
fn owned(tensor: FloatTensor<burn::backend::Flex>) -> FloatTensor<burn::backend::Flex> {
    let whole = tensor.as_slice::<f32>().map(<[f32]>::len) == Some(tensor.storage::<f32>().len());
    if whole {
        tensor
    } else {
        tensor.to_contiguous()
    }
}
