//! Data: image ↔ tensor conversion and the embedded StripeShapes dataset.

pub mod image;
pub mod synthetic;

pub use synthetic::{Domain, StripeShapes};
