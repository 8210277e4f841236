//! Times each kind of layer of the default generator and of the PatchGAN discriminator,
//! forward alone and forward with backward, one line per layer: `scripts/bench_layers.py`
//! prints the same lines for PyTorch, so the two can be put side by side to see which
//! layers a speed gap comes from (one after the other: run at once, they share the cores).
//!
//! ```text
//! cargo run --release --example bench_layers -- 128 > ours.txt
//! python3 scripts/bench_layers.py 128 > pytorch.txt
//! paste ours.txt pytorch.txt
//! ```
//!
//! The first argument is the networks' input size (default 128): the layers are those of
//! resnet_9blocks ngf 64 at that size (the residual blocks at a quarter of it), then those
//! of the basic discriminator (ndf 64, `d1`–`d5`, 4×4 convolutions with their norm and
//! leaky ReLU) at that size. Each line gives two medians of 5 runs (the second argument, if
//! given) after one warm-up: a fresh random input, the layer and the sum of its output,
//! without autodiff (as PyTorch's under `no_grad`); then the same on an autodiff device
//! with the backward pass of that sum. `--forward-only` leaves out the second (to profile
//! a layer's forward pass with `perf`). `--backend` runs them on another device (`cuda`,
//! `wgpu`; each timed run then waits for the device), beside `scripts/bench_layers.py
//! --device cuda`.

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

/// One layer to time: its name, input shape and forward pass.
struct Layer {
    name: &'static str,
    shape: [usize; 4],
    forward: Box<dyn Fn(Tensor<4>) -> Tensor<4> + Sync>,
}

/// Times layers: `repeats` runs each of those whose names contain `only`.
struct Timer {
    repeats: usize,
    only: Option<String>,
}

impl Timer {
    /// Whether `name` is one of the layers to time.
    fn wants(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| name.contains(only.as_str()))
    }

    /// The median time of `layer` on `device` over fresh random inputs, in milliseconds:
    /// the forward pass and the sum of its output, and with `backward` (on an autodiff
    /// device) the backward pass of that sum too.
    fn median(&self, device: &Device, layer: &Layer, backward: bool) -> f64 {
        let mut seconds = (0..=self.repeats)
            .map(|_| {
                let x = Tensor::<4>::random(layer.shape, Distribution::Uniform(-1.0, 1.0), device);
                let x = if backward { x.require_grad() } else { x };
                // As the networks' passes run: on a thread of the kernels' pool.
                on_pool_thread(device, || {
                    let start = Instant::now();
                    let y = (layer.forward)(x).sum();
                    if backward {
                        let _ = y.backward();
                        // A GPU runs the backward pass after this returns.
                        device.sync().expect("the device runs the backward pass");
                    } else {
                        let _: f32 = y.into_scalar();
                    }
                    start.elapsed().as_secs_f64()
                })
            })
            .skip(1)
            .collect::<Vec<_>>();
        seconds.sort_by(f64::total_cmp);
        seconds[self.repeats / 2] * 1e3
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
    #[command(flatten)]
    backend: common::BackendOption,
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
    let timer = Timer {
        repeats: o.repeats as usize,
        only: o.only.clone(),
    };
    // The forward pass alone runs without autodiff, as PyTorch's runs under `no_grad`: on
    // an autodiff device the layers' parameters are tracked, and a forward pass without
    // its backward leaves its saved tensors in the graph, so that every run took fresh
    // memory (page faults) and the process grew by the layer's input and output per run.
    let plain = o.backend.device()?;
    let autodiff = plain.clone().autodiff();
    let forward = layers(&plain, o.size);
    let trained = (!o.forward_only).then(|| layers(&autodiff, o.size));
    for (index, layer) in forward.iter().enumerate() {
        if !timer.wants(layer.name) {
            continue;
        }
        let forward_ms = timer.median(&plain, layer, false);
        match &trained {
            Some(trained) => {
                let backward_ms = timer.median(&autodiff, &trained[index], true);
                println!("{:14} {forward_ms:8.2} {backward_ms:8.2} ms", layer.name);
            }
            None => println!("{:14} {forward_ms:8.2}        - ms", layer.name),
        }
    }
    Ok(())
}

/// The layers of the default generator at input size `size` (the residual blocks at a
/// quarter of it), then those of the basic discriminator, on `device`.
fn layers(device: &Device, size: usize) -> Vec<Layer> {
    let (half, quarter) = (size / 2, size / 4);
    let conv = |c_in, c_out, kernel, stride, pad| {
        Conv2dConfig::new([c_in, c_out], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
            .init(device)
    };
    let up = |c_in, c_out| {
        ConvTranspose2dConfig::new([c_in, c_out], [3, 3])
            .with_stride([2, 2])
            .with_padding([1, 1])
            .with_padding_out([1, 1])
            .init(device)
    };
    // The networks' norm layer (instance norm without affine parameters).
    let mut weights = WeightInit::new(InitType::Normal, 0.02, 0);
    let mut norm = |channels| Norm::Instance.init(channels, &mut weights, device);
    let layer = |name, shape, forward: Box<dyn Fn(Tensor<4>) -> Tensor<4> + Sync>| Layer {
        name,
        shape,
        forward,
    };
    let block_shape = [1, 256, quarter, quarter];
    let (head, down1, down2) = (
        conv(3, 64, 7, 1, 0),
        conv(64, 128, 3, 2, 1),
        conv(128, 256, 3, 2, 1),
    );
    let residual = conv(256, 256, 3, 1, 0);
    let (norm256, norm64) = (norm(256), norm(64));
    let (up1, up2, tail) = (up(256, 128), up(128, 64), conv(64, 3, 7, 1, 0));
    let mut layers = vec![
        layer(
            "head",
            [1, 3, size, size],
            Box::new(move |x| conv2d(&head, reflect_pad2d(x, 3))),
        ),
        layer(
            "down1",
            [1, 64, size, size],
            Box::new(move |x| conv2d(&down1, x)),
        ),
        layer(
            "down2",
            [1, 128, half, half],
            Box::new(move |x| conv2d(&down2, x)),
        ),
        layer(
            "res_conv",
            block_shape,
            Box::new(move |x| conv2d(&residual, reflect_pad2d(x, 1))),
        ),
        layer("pad256", block_shape, Box::new(|x| reflect_pad2d(x, 1))),
        layer(
            "norm_relu256",
            block_shape,
            Box::new(move |x| norm256.forward_relu(x)),
        ),
        layer(
            "up1",
            block_shape,
            Box::new(move |x| conv_transpose2d(&up1, x)),
        ),
        layer(
            "up2",
            [1, 128, half, half],
            Box::new(move |x| conv_transpose2d(&up2, x)),
        ),
        layer(
            "norm_relu64",
            [1, 64, size, size],
            Box::new(move |x| norm64.forward_relu(x)),
        ),
        layer(
            "tail",
            [1, 64, size, size],
            Box::new(move |x| conv2d(&tail, reflect_pad2d(x, 3)).tanh()),
        ),
    ];
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
        let conv = conv(c_in, c_out, 4, stride, 1);
        let norm = normed.then(|| norm(c_out));
        let shape = [1, c_in, side, side];
        side = (side + 2 - 4) / stride + 1;
        layers.push(layer(
            name,
            shape,
            Box::new(move |x| match (&norm, name) {
                (Some(norm), _) => norm.forward_activated(conv2d(&conv, x), leaky_slope),
                (None, "d5") => conv2d(&conv, x),
                (None, _) => leaky_relu(conv2d(&conv, x), 0.2),
            }),
        ));
    }
    layers
}
