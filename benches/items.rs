//! The benchmark items, shared by the criterion benches (`benches/networks.rs`) and the
//! side-by-side program (`examples/bench_item.rs`, driven by `scripts/bench_compare.py`):
//! the official default networks (resnet_9blocks ngf 64, basic D ndf 64, instance norm) at
//! batch 1, as `scripts/bench_pytorch.py` runs them in PyTorch.

use burn::tensor::Distribution;
use cyclegan_burn::prelude::*;

/// One thing to time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// `ResnetGenerator` forward (no autodiff) at `size × size`.
    GeneratorForward(usize),
    /// `NLayerDiscriminator` forward (no autodiff) at `size × size`.
    DiscriminatorForward(usize),
    /// One full CycleGAN training step (both generators, both discriminators, two Adam
    /// updates) at `size × size`.
    TrainStep(usize),
    /// A training step on a batch of 2 at `size × size` on one device (beside
    /// [`TrainStepReplicas`](Item::TrainStepReplicas); not in the PyTorch table).
    TrainStepBatch2(usize),
    /// A training step on a batch of 2 shared by two replicas on the same device (data
    /// parallel, one image each): the cost of the replication and gradient averaging.
    TrainStepReplicas(usize),
    /// pool3 features of a batch of this many 256×256 images with pytorch-fid's Inception
    /// (preprocessing included; weights from a cheap formula: speed does not depend on them).
    FidFeatures(usize),
}

impl Item {
    /// The items of the benchmark table, in its order.
    pub const ALL: [Item; 6] = [
        Item::GeneratorForward(64),
        Item::GeneratorForward(128),
        Item::GeneratorForward(256),
        Item::DiscriminatorForward(256),
        Item::TrainStep(64),
        Item::TrainStep(128),
    ];

    /// `generator_forward_256` and so on.
    pub fn name(self) -> String {
        match self {
            Item::GeneratorForward(s) => format!("generator_forward_{s}"),
            Item::DiscriminatorForward(s) => format!("discriminator_forward_{s}"),
            Item::TrainStep(s) => format!("train_step_{s}"),
            Item::TrainStepBatch2(s) => format!("train_step_b2_{s}"),
            Item::TrainStepReplicas(s) => format!("train_step_x2_{s}"),
            Item::FidFeatures(batch) => format!("fid_features_{batch}"),
        }
    }

    /// The item called `name` (any size).
    #[allow(dead_code)]
    pub fn parse(name: &str) -> Option<Item> {
        let (kind, size) = name.rsplit_once('_')?;
        let size = size.parse().ok()?;
        match kind {
            "generator_forward" => Some(Item::GeneratorForward(size)),
            "discriminator_forward" => Some(Item::DiscriminatorForward(size)),
            "train_step" => Some(Item::TrainStep(size)),
            "train_step_b2" => Some(Item::TrainStepBatch2(size)),
            "train_step_x2" => Some(Item::TrainStepReplicas(size)),
            "fid_features" => Some(Item::FidFeatures(size)),
            _ => None,
        }
    }

    /// Builds the networks and input on `device` (a plain device; the training step makes
    /// its own autodiff device) and returns one iteration, which waits for the result.
    pub fn prepare(self, device: &Device) -> Box<dyn FnMut()> {
        let input = |size: usize, device: &Device| {
            Tensor::<4>::random([1, 3, size, size], Distribution::Uniform(-1.0, 1.0), device)
        };
        match self {
            Item::GeneratorForward(size) => {
                let generator = ResnetGeneratorConfig::new(3, 3).init_seeded(device, 0);
                let x = input(size, device);
                Box::new(move || {
                    let _ = generator.forward(x.clone()).into_data();
                })
            }
            Item::DiscriminatorForward(size) => {
                let discriminator = NLayerDiscriminatorConfig::new(3).init_seeded(device, 0);
                let x = input(size, device);
                Box::new(move || {
                    let _ = discriminator.forward(x.clone()).into_data();
                })
            }
            Item::TrainStep(size) => {
                let device = device.clone().autodiff();
                let mut gan = CycleGan::new(&CycleGanConfig::new(), &device);
                let (a, b) = (input(size, &device), input(size, &device));
                Box::new(move || {
                    // The losses are read back, which waits for the whole step.
                    let _ = gan.train_step(a.clone(), b.clone());
                })
            }
            Item::FidFeatures(batch) => {
                use cyclegan_burn::import::{HostTensor, StateDict};
                use cyclegan_burn::metrics::inception::FidInception;
                let mut dict = StateDict::new();
                for (key, shape) in FidInception::state_dict_layout() {
                    let n: usize = shape.iter().product();
                    let values = (0..n)
                        .map(|i| {
                            ((i % 97) as f32 / 97.0 - 0.5) * 0.05
                                + if key.ends_with("var") { 1.0 } else { 0.0 }
                        })
                        .collect();
                    dict.insert(key, HostTensor { shape, values });
                }
                let network =
                    FidInception::from_state_dict(&dict, std::path::Path::new("formula"), device)
                        .expect("the layout's own keys");
                let images: Vec<image::RgbImage> = (0..batch)
                    .map(|n| {
                        image::RgbImage::from_fn(256, 256, |x, y| {
                            image::Rgb([(x * 7 + n as u32) as u8, (y * 3) as u8, (x ^ y) as u8])
                        })
                    })
                    .collect();
                let device = device.clone();
                Box::new(move || {
                    let _ = network.features(&images, batch, &device).expect("features");
                })
            }
            Item::TrainStepBatch2(size) | Item::TrainStepReplicas(size) => {
                let device = device.clone().autodiff();
                let mut gan = CycleGan::new(&CycleGanConfig::new(), &device);
                if matches!(self, Item::TrainStepReplicas(_)) {
                    gan = gan.with_replicas(std::slice::from_ref(&device));
                }
                let pair = |device: &Device| {
                    Tensor::cat(vec![input(size, device), input(size, device)], 0)
                };
                let (a, b) = (pair(&device), pair(&device));
                Box::new(move || {
                    let _ = gan.train_step(a.clone(), b.clone());
                })
            }
        }
    }
}
