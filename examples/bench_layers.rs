//! Times each kind of layer of the default generator and of the PatchGAN discriminator,
//! forward alone and forward with backward, one line per layer: `scripts/bench_layers.py` prints the same lines for PyTorch, so the two can be
//! put side by side (`paste`) to see which layers a speed gap comes from.
//!
//! ```text
//! cargo run --release --example bench_layers -- 128
//! python3 scripts/bench_layers.py 128
//! ```
//!
//! The first argument is the networks' input size (default 128): the layers are those of
//! resnet_9blocks ngf 64 at that size (the residual blocks at a quarter of it), then those
//! of the basic discriminator (ndf 64, `d1`–`d5`, 4×4 convolutions with their norm and
//! leaky ReLU) at that size. Each line gives two medians of 5 runs (the second argument, if
//! given) after one warm-up: a fresh random input, the layer and the sum of its output; then
//! the same with the backward pass of that sum.

mod common;

use std::process::ExitCode;
use std::time::Instant;

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use clap::Parser;
use cyclegan_burn::CycleGanError;
use cyclegan_burn::kernels::{Activation, conv_transpose2d, conv2d, leaky_relu, on_pool_thread};
use cyclegan_burn::model::init::WeightInit;
use cyclegan_burn::model::padding::reflect_pad2d;
use cyclegan_burn::model::{InitType, Norm};

/// Times layers on one device: `repeats` runs each, only those whose names contain `only`.
struct Timer<'a> {
    device: &'a Device,
    repeats: usize,
    only: Option<String>,
    forward_only: bool,
}

impl Timer<'_> {
    /// Prints the median time of `layer` forward alone (on an input that needs no
    /// gradient), then (unless `forward_only`) forward and backward, on inputs of `shape`.
    fn time(&self, name: &str, shape: [usize; 4], layer: &(dyn Fn(Tensor<4>) -> Tensor<4> + Sync)) {
        if self
            .only
            .as_ref()
            .is_some_and(|only| !name.contains(only.as_str()))
        {
            return;
        }
        let (device, repeats) = (self.device, self.repeats);
        let median = |backward: bool| {
            let mut seconds = (0..=repeats)
                .map(|_| {
                    let x = Tensor::<4>::random(shape, Distribution::Uniform(-1.0, 1.0), device);
                    let x = if backward { x.require_grad() } else { x };
                    // As the networks' passes run: on a thread of the kernels' pool.
                    on_pool_thread(device, || {
                        let start = Instant::now();
                        let y = layer(x).sum();
                        if backward {
                            let _ = y.backward();
                        } else {
                            let _: f32 = y.into_scalar();
                        }
                        start.elapsed().as_secs_f64()
                    })
                })
                .skip(1)
                .collect::<Vec<_>>();
            seconds.sort_by(f64::total_cmp);
            seconds[repeats / 2] * 1e3
        };
        let forward = median(false);
        if self.forward_only {
            println!("{name:14} {forward:8.2}        - ms");
        } else {
            println!("{name:14} {forward:8.2} {:8.2} ms", median(true));
        }
    }
}

/// Time each layer of the default generator, forward and backward.
#[derive(Parser, Debug)]
struct Options {
    /// The generator's input size (a multiple of 4 from 16).
    #[arg(default_value_t = 128, value_parser = input_size)]
    size: usize,
    /// Timed runs per layer (the median is printed).
    #[arg(default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    repeats: u16,
    /// Only the layers whose names contain this (e.g. `up` or `d4`).
    #[arg(long)]
    only: Option<String>,
    /// Time the forward pass alone (for profiling one layer's forward pass with `perf`).
    #[arg(long)]
    forward_only: bool,
}

fn input_size(arg: &str) -> Result<usize, String> {
    match arg.parse::<usize>() {
        Ok(size) if size >= 16 && size % 4 == 0 => Ok(size),
        _ => Err(format!("`{arg}` is not a multiple of 4 from 16")),
    }
}

fn main() -> ExitCode {
    common::main_with(run)
}

fn run(o: Options) -> Result<(), CycleGanError> {
    let (size, repeats) = (o.size, o.repeats as usize);
    let device = cyclegan_burn::backend::cpu().autodiff();
    let timer = Timer {
        device: &device,
        repeats,
        only: o.only.clone(),
        forward_only: o.forward_only,
    };
    let (half, quarter) = (size / 2, size / 4);
    let conv = |c_in, c_out, kernel, stride, pad| {
        Conv2dConfig::new([c_in, c_out], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
            .init(&device)
    };
    let up = |c_in, c_out| {
        ConvTranspose2dConfig::new([c_in, c_out], [3, 3])
            .with_stride([2, 2])
            .with_padding([1, 1])
            .with_padding_out([1, 1])
            .init(&device)
    };
    // The networks' norm layer (instance norm without affine parameters).
    let mut weights = WeightInit::new(InitType::Normal, 0.02, 0);
    let mut norm = |channels| Norm::Instance.init(channels, &mut weights, &device);

    let head = conv(3, 64, 7, 1, 0);
    timer.time("head", [1, 3, size, size], &|x| {
        conv2d(&head, reflect_pad2d(x, 3))
    });
    let down1 = conv(64, 128, 3, 2, 1);
    timer.time("down1", [1, 64, size, size], &|x| conv2d(&down1, x));
    let down2 = conv(128, 256, 3, 2, 1);
    timer.time("down2", [1, 128, half, half], &|x| conv2d(&down2, x));
    let residual = conv(256, 256, 3, 1, 0);
    let block_shape = [1, 256, quarter, quarter];
    timer.time("res_conv", block_shape, &|x| {
        conv2d(&residual, reflect_pad2d(x, 1))
    });
    timer.time("pad256", block_shape, &|x| reflect_pad2d(x, 1));
    let norm256 = norm(256);
    timer.time("norm_relu256", block_shape, &|x| norm256.forward_relu(x));
    let up1 = up(256, 128);
    timer.time("up1", block_shape, &|x| conv_transpose2d(&up1, x));
    let up2 = up(128, 64);
    timer.time("up2", [1, 128, half, half], &|x| conv_transpose2d(&up2, x));
    let norm64 = norm(64);
    timer.time("norm_relu64", [1, 64, size, size], &|x| {
        norm64.forward_relu(x)
    });
    let tail = conv(64, 3, 7, 1, 0);
    timer.time("tail", [1, 64, size, size], &|x| {
        conv2d(&tail, reflect_pad2d(x, 3)).tanh()
    });
    // The basic discriminator: 4×4 convolutions, stride 2 then 1, padding 1.
    let leaky_slope = Activation::LeakyRelu {
        negative_slope: 0.2,
    };
    let mut side = size;
    for (name, c_in, c_out, stride, normed) in [
        ("d1", 3, 64, 2, false),
        ("d2", 64, 128, 2, true),
        ("d3", 128, 256, 2, true),
        ("d4", 256, 512, 1, true),
        ("d5", 512, 1, 1, false),
    ] {
        let layer = conv(c_in, c_out, 4, stride, 1);
        let norm = normed.then(|| norm(c_out));
        let shape = [1, c_in, side, side];
        side = (side + 2 - 4) / stride + 1;
        timer.time(name, shape, &|x| match (&norm, name) {
            (Some(norm), _) => norm.forward_activated(conv2d(&layer, x), leaky_slope),
            (None, "d5") => conv2d(&layer, x),
            (None, _) => leaky_relu(conv2d(&layer, x), 0.2),
        });
    }
    Ok(())
}
