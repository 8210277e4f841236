//! A short StripeShapes training run must move the scores away from the identity baseline
//! (the CI smoke version of the quality protocol S; the full protocol is a documented command).

mod common;

use std::sync::Arc;

use cyclegan_burn::data::{
    DatasetOptions, Preprocess, StripeShapes, TransformOptions, UnalignedDataset,
};
use cyclegan_burn::metrics::StripeScores;
use cyclegan_burn::model::GeneratorKind;
use cyclegan_burn::prelude::*;
use cyclegan_burn::train::{RunOptions, train};

#[test]
fn a_short_stripe_shapes_run_beats_the_identity_baseline() {
    let dir = std::env::temp_dir().join(format!("cyclegan-burn-quality-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let device = common::device();
    let config = CycleGanConfig::new()
        .with_net_g(GeneratorKind::Resnet6Blocks)
        .with_ngf(8)
        .with_ndf(8)
        .with_lr_policy(LrPolicy::Constant)
        .with_n_epochs(4)
        .with_n_epochs_decay(0)
        .with_seed(0);
    let options = DatasetOptions {
        transform: TransformOptions {
            preprocess: Preprocess::None,
            ..Default::default()
        },
        ..Default::default()
    };
    let data = Arc::new(UnalignedDataset::stripe_shapes(32, 100, options).unwrap());
    let run = RunOptions {
        name: "smoke".into(),
        checkpoints_dir: dir.clone(),
        num_threads: 1,
        ..Default::default()
    };
    let summary = train(&config, data, &run, &device.clone().autodiff()).unwrap();
    assert_eq!(summary.total_iters, 400);
    let (nets, _) = cyclegan_burn::train::Checkpointer::new(&summary.run_dir)
        .unwrap()
        .load_nets("latest", &device)
        .unwrap();
    let test = StripeShapes::test(32, 50);
    let remove = StripeScores::measure(&nets.g_b, &test, false, &device).unwrap();
    // B → A: the model's output is closer to the flat object than the striped input is.
    assert!(
        remove.model[0] < remove.identity[0],
        "B→A in-mask L1 {:.4} should beat the identity's {:.4}",
        remove.model[0],
        remove.identity[0]
    );
    let add = StripeScores::measure(&nets.g_a, &test, true, &device).unwrap();
    println!("B→A {remove:?}\nA→B {add:?}");
    // A → B: at stripe scale the output matches the striped truth better than the input.
    assert!(
        add.model[1] < add.identity[1],
        "A→B low-pass in-mask L1 {:.4} should beat the identity's {:.4}",
        add.model[1],
        add.identity[1]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
