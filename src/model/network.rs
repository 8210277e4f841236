//! What every network of the crate is, whatever its architecture: the [`Network`] trait.

use burn::prelude::*;

use crate::error::CycleGanError;

/// An image network: it takes `[N, input_nc, H, W]` images whose sides are multiples of
/// [`size_multiple`](Self::size_multiple), and says what is wrong with an input it cannot
/// take ([`check_input`](Self::check_input)) instead of failing inside Burn.
///
/// Every generator and discriminator implements it, and so do the [`Generator`] and
/// [`Discriminator`] enums, so that code that translates or judges images (the
/// [`translate`](crate::translate) functions, the metrics) works with any architecture.
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use cyclegan_burn::model::Network;
/// use cyclegan_burn::prelude::*;
///
/// let device = backend::cpu();
/// let g = UnetGeneratorConfig::new(3, 3, 5).with_ngf(4).init(&device);
/// assert_eq!((g.input_nc(), g.size_multiple()), (3, 32));
/// assert!(Network::check_input(&g, [1, 3, 48, 48]).is_err());
/// # }
/// ```
///
/// [`Generator`]: super::Generator
/// [`Discriminator`]: super::Discriminator
pub trait Network {
    /// Channels of the images it takes.
    fn input_nc(&self) -> usize;

    /// The multiple that input height and width must be (1 where any size fits).
    fn size_multiple(&self) -> usize;

    /// Checks that an input of `shape` can be processed.
    fn check_input(&self, shape: [usize; 4]) -> Result<(), CycleGanError>;

    /// The network's output for `[N, C, H, W]` images (no checks: see
    /// [`try_forward`](Self::try_forward)).
    fn forward(&self, x: Tensor<4>) -> Tensor<4>;

    /// [`forward`](Self::forward) after [`check_input`](Self::check_input).
    fn try_forward(&self, x: Tensor<4>) -> Result<Tensor<4>, CycleGanError> {
        self.check_input(x.dims())?;
        Ok(self.forward(x))
    }
}

/// Implements [`Network`] for a network type with inherent `forward` and `check_input`
/// methods, an `input_nc` field, and the size multiple given as an expression of `self`.
macro_rules! impl_network {
    ($type:ty, |$self:ident| $size_multiple:expr) => {
        impl $crate::model::Network for $type {
            fn input_nc(&self) -> usize {
                self.input_nc
            }

            fn size_multiple(&$self) -> usize {
                $size_multiple
            }

            fn check_input(
                &self,
                shape: [usize; 4],
            ) -> Result<(), $crate::error::CycleGanError> {
                <$type>::check_input(self, shape)
            }

            fn forward(&self, x: burn::prelude::Tensor<4>) -> burn::prelude::Tensor<4> {
                <$type>::forward(self, x)
            }
        }
    };
}
pub(crate) use impl_network;
