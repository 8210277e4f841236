//! The image buffer of Shrivastava et al. (2017) used by CycleGAN: discriminators are
//! updated with a history of generated images rather than only the latest ones.

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A pool of previously generated images (`--pool_size`, official default 50).
///
/// Per image of a queried batch, as the official `ImagePool.query`: while the pool is not
/// full, the image is stored and returned; once full, with probability ½ a random stored
/// image is returned and replaced by the new one, otherwise the new image is returned.
/// A pool of size 0 returns its input unchanged. The pool draws from its own seeded RNG.
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use cyclegan_burn::prelude::*;
/// let device = backend::cpu();
/// let mut pool = ImagePool::new(50, 0);
/// let fakes = Tensor::<4>::zeros([2, 3, 8, 8], &device);
/// assert_eq!(pool.query(fakes).dims(), [2, 3, 8, 8]);
/// assert_eq!(pool.len(), 2);
/// # }
/// ```
#[derive(Debug)]
pub struct ImagePool {
    pool_size: usize,
    images: Vec<Tensor<4>>,
    rng: StdRng,
}

impl ImagePool {
    /// A pool holding up to `pool_size` images, drawing from an RNG seeded with `seed`.
    pub fn new(pool_size: usize, seed: u64) -> Self {
        Self {
            pool_size,
            images: Vec::with_capacity(pool_size),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The capacity.
    pub fn pool_size(&self) -> usize {
        self.pool_size
    }

    /// Images stored so far.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// Returns a batch of the same shape as `images` (`[N, C, H, W]`), each image either the
    /// input one or a stored one, as described on [`ImagePool`]. Inputs are detached from
    /// any autodiff graph before they are stored.
    pub fn query(&mut self, images: Tensor<4>) -> Tensor<4> {
        if self.pool_size == 0 {
            return images;
        }
        let images = images.detach();
        let [n, c, h, w] = images.dims();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let image = images.clone().slice(s![i..i + 1, 0..c, 0..h, 0..w]);
            if self.images.len() < self.pool_size {
                self.images.push(image.clone());
                out.push(image);
            } else if self.rng.random::<f64>() > 0.5 {
                let slot = self.rng.random_range(0..self.pool_size);
                let stored = std::mem::replace(&mut self.images[slot], image);
                out.push(stored);
            } else {
                out.push(image);
            }
        }
        Tensor::cat(out, 0)
    }
}
