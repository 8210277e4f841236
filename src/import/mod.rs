//! Interoperability with the official PyTorch implementation: its checkpoint key names,
//! `.safetensors` files and `.pth` files.

pub mod detect;
pub mod pth;
pub mod pytorch;
pub mod state_dict;

pub use pytorch::PytorchLayout;
pub use state_dict::{HostTensor, StateDict};
