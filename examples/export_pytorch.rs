//! Writes one network of every kind as an official `.pth` checkpoint, with an input and this
//! crate's outputs for it, so that `scripts/check_pth_with_torch.py` can load each file with
//! `torch.load` + `load_state_dict(strict=True)` into the official architecture and compare.
//!
//! ```text
//! cargo run --release --example export_pytorch -- --out /tmp/pth-check
//! python3 scripts/check_pth_with_torch.py /tmp/pth-check
//! ```

mod common;

use std::path::PathBuf;

use burn::prelude::*;
use clap::Parser;
use cyclegan_burn::backend;
use cyclegan_burn::import::state_dict::write_safetensors;
use cyclegan_burn::import::{HostTensor, PytorchLayout, StateDict};
use cyclegan_burn::model::{
    NLayerDiscriminatorConfig, Norm, PaddingType, PixelDiscriminatorConfig, ResnetGeneratorConfig,
    UnetGeneratorConfig,
};

/// Export checkpoints of every network variant for a check in PyTorch.
#[derive(Parser, Debug)]
#[command(rename_all = "snake_case")]
struct Options {
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
}

/// Builds, saves and runs one network.
type Case<'a> = Box<dyn Fn() -> Result<Tensor<4>, cyclegan_burn::CycleGanError> + 'a>;

fn host(t: Tensor<4>) -> HostTensor {
    HostTensor {
        shape: t.dims().to_vec(),
        values: t
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32"),
    }
}

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

fn run(o: Options) -> Result<(), cyclegan_burn::CycleGanError> {
    std::fs::create_dir_all(&o.out).map_err(|e| cyclegan_burn::CycleGanError::io(&o.out, e))?;
    let device = backend::cpu();
    let input: Tensor<4> = Tensor::random(
        [1, 3, 64, 64],
        burn::tensor::Distribution::Uniform(-1.0, 1.0),
        &device,
    );
    let mut tensors = StateDict::new();
    tensors.insert("input".into(), host(input.clone()));
    let mut save = |name: &str, output: Tensor<4>| {
        tensors.insert(name.to_string(), host(output));
    };
    // name, network (as written), output on `input`
    let gain = 0.2; // larger than the default 0.02 so outputs are far from 0
    let cases: Vec<(&str, Case)> = vec![
        (
            "resnet_9blocks_instance",
            Box::new(|| {
                let g = ResnetGeneratorConfig::new(3, 3)
                    .with_ngf(8)
                    .with_init_gain(gain)
                    .init_seeded(&device, 1);
                g.save_pytorch(o.out.join("resnet_9blocks_instance.pth"))?;
                Ok(g.forward(input.clone()))
            }),
        ),
        (
            "resnet_6blocks_batch_dropout",
            Box::new(|| {
                let g = ResnetGeneratorConfig::new(3, 3)
                    .with_ngf(8)
                    .with_n_blocks(6)
                    .with_norm(Norm::Batch)
                    .with_dropout(true)
                    .with_init_gain(gain)
                    .init_seeded(&device, 2);
                g.save_pytorch(o.out.join("resnet_6blocks_batch_dropout.pth"))?;
                Ok(g.forward(input.clone()))
            }),
        ),
        (
            "resnet_2blocks_none_zero",
            Box::new(|| {
                let g = ResnetGeneratorConfig::new(3, 3)
                    .with_ngf(8)
                    .with_n_blocks(2)
                    .with_norm(Norm::None)
                    .with_padding(PaddingType::Zero)
                    .with_init_gain(gain)
                    .init_seeded(&device, 3);
                g.save_pytorch(o.out.join("resnet_2blocks_none_zero.pth"))?;
                Ok(g.forward(input.clone()))
            }),
        ),
        (
            "unet_64_instance",
            Box::new(|| {
                let g = UnetGeneratorConfig::new(3, 3, 6)
                    .with_ngf(4)
                    .with_dropout(true)
                    .with_init_gain(gain)
                    .init_seeded(&device, 4);
                g.save_pytorch(o.out.join("unet_64_instance.pth"))?;
                Ok(g.forward(input.clone()))
            }),
        ),
        (
            "basic_d_instance",
            Box::new(|| {
                let d = NLayerDiscriminatorConfig::new(3)
                    .with_ndf(8)
                    .with_init_gain(gain)
                    .init_seeded(&device, 5);
                d.save_pytorch(o.out.join("basic_d_instance.pth"))?;
                Ok(d.forward(input.clone()))
            }),
        ),
        (
            "n_layers_4_d_batch",
            Box::new(|| {
                let d = NLayerDiscriminatorConfig::new(3)
                    .with_ndf(8)
                    .with_n_layers(4)
                    .with_norm(Norm::Batch)
                    .with_init_gain(gain)
                    .init_seeded(&device, 6);
                d.save_pytorch(o.out.join("n_layers_4_d_batch.pth"))?;
                Ok(d.forward(input.clone()))
            }),
        ),
        (
            "pixel_d_instance",
            Box::new(|| {
                let d = PixelDiscriminatorConfig::new(3)
                    .with_ndf(8)
                    .with_init_gain(gain)
                    .init_seeded(&device, 7);
                d.save_pytorch(o.out.join("pixel_d_instance.pth"))?;
                Ok(d.forward(input.clone()))
            }),
        ),
    ];
    for (name, case) in &cases {
        let output = case()?;
        save(name, output);
    }
    write_safetensors(o.out.join("outputs.safetensors"), &tensors, None)?;
    println!(
        "wrote {} checkpoints and outputs.safetensors to {}",
        cases.len(),
        o.out.display()
    );
    Ok(())
}
