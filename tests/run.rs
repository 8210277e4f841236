//! Whole training runs through the library: checkpoints, exact resume, report, errors.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use cyclegan_burn::data::{DatasetOptions, Preprocess, TransformOptions, UnalignedDataset};
use cyclegan_burn::model::GeneratorKind;
use cyclegan_burn::prelude::*;
use cyclegan_burn::train::{
    Checkpointer, CycleGan, RunOptions, TrainEvent, TrainObserver, train, train_observed,
};

/// Training runs here are compared bit for bit and write into temporary folders: the tests of
/// this file take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cyclegan-burn-run-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn tiny_config() -> CycleGanConfig {
    CycleGanConfig::new()
        .with_net_g(GeneratorKind::Resnet6Blocks)
        .with_ngf(4)
        .with_ndf(4)
        .with_pool_size(0)
        .with_n_epochs(2)
        .with_n_epochs_decay(2)
        .with_seed(3)
}

fn stripes() -> Arc<UnalignedDataset> {
    stripes_of(6)
}

/// `len` StripeShapes images per domain at 32², as they are (no resize, crop or flip seed
/// but 5).
fn stripes_of(len: usize) -> Arc<UnalignedDataset> {
    let options = DatasetOptions {
        transform: TransformOptions {
            preprocess: Preprocess::None,
            ..Default::default()
        },
        seed: 5,
        ..Default::default()
    };
    Arc::new(UnalignedDataset::stripe_shapes(32, len, options).unwrap())
}

fn run_options(dir: &std::path::Path, name: &str) -> RunOptions {
    RunOptions {
        name: name.into(),
        checkpoints_dir: dir.to_path_buf(),
        batch_size: 2,
        num_threads: 2,
        print_freq: 4,
        display_freq: 4,
        save_epoch_freq: 2,
        ..Default::default()
    }
}

/// Loads the `latest` checkpoints of the runs `expected` and `actual` in `dir` and asserts
/// that they are the same run: trainer state (all but the wall time) and the four networks
/// bit for bit. Returns both.
fn assert_same_latest(
    dir: &std::path::Path,
    expected: &str,
    actual: &str,
    device: &Device,
    when: &str,
) -> (CycleGan, CycleGan) {
    let load = |name: &str| {
        Checkpointer::new(dir.join(name))
            .unwrap()
            .load("latest", device)
            .unwrap()
    };
    let ((a, state_a), (b, state_b)) = (load(expected), load(actual));
    assert_eq!(
        (
            state_a.epoch,
            state_a.total_iters,
            state_a.epoch_progress,
            state_a.learning_rate
        ),
        (
            state_b.epoch,
            state_b.total_iters,
            state_b.epoch_progress,
            state_b.learning_rate
        )
    );
    assert_eq!(state_a.config, state_b.config);
    assert!(state_a.train_seconds > 0.0 && state_b.train_seconds > 0.0);
    for (net, x, y) in [
        (
            "G_A",
            a.nets().g_a.to_state_dict(),
            b.nets().g_a.to_state_dict(),
        ),
        (
            "G_B",
            a.nets().g_b.to_state_dict(),
            b.nets().g_b.to_state_dict(),
        ),
        (
            "D_A",
            a.nets().d_a.to_state_dict(),
            b.nets().d_a.to_state_dict(),
        ),
        (
            "D_B",
            a.nets().d_b.to_state_dict(),
            b.nets().d_b.to_state_dict(),
        ),
    ] {
        for (key, t) in &x {
            assert_eq!(t, &y[key], "{net}.{key} differs {when}");
        }
    }
    (a, b)
}

#[test]
fn resumed_run_equals_an_uninterrupted_one() {
    let _serial = serial();
    let dir = temp_dir("resume");
    let device = common::device().autodiff();
    let config = tiny_config();

    // Uninterrupted: three epochs.
    let straight = RunOptions {
        stop_after_epoch: Some(3),
        ..run_options(&dir, "straight")
    };
    let summary = train(&config, stripes(), &straight, &device).unwrap();
    assert_eq!((summary.last_epoch, summary.total_iters), (3, 18));
    // Linear policy with n_epochs 2, decay 2: epoch 3 runs at lr · (1 − 1/3).
    assert!((summary.learning_rate - 2e-4 * (2.0 / 3.0)).abs() < 1e-12);

    // Two epochs, then a resume for the third.
    let first = RunOptions {
        stop_after_epoch: Some(2),
        ..run_options(&dir, "resumed")
    };
    train(&config, stripes(), &first, &device).unwrap();
    let checkpoints = Checkpointer::new(dir.join("resumed")).unwrap();
    let state = checkpoints.state("latest").unwrap();
    assert_eq!((state.epoch, state.total_iters), (2, 12));
    assert!(checkpoints.exists("2"), "save_epoch_freq 2 keeps epoch 2");
    let second = RunOptions {
        continue_train: true,
        stop_after_epoch: Some(3),
        ..run_options(&dir, "resumed")
    };
    let resumed = train(&config, stripes(), &second, &device).unwrap();
    assert_eq!((resumed.last_epoch, resumed.total_iters), (3, 18));
    assert_eq!(resumed.learning_rate, summary.learning_rate);

    // Same weights and the same Adam moments: the resumed run is the uninterrupted one.
    let (a, b) = assert_same_latest(&dir, "straight", "resumed", &device, "after epoch 3");
    let g_a_after_epoch_3 = b.nets().g_a.to_state_dict();
    // The nets alone (as the translate program loads a Burn record), on a plain device.
    let (nets, _) = checkpoints.load_nets("latest", &common::device()).unwrap();
    assert_eq!(nets.g_a.to_state_dict(), g_a_after_epoch_3);
    // One more identical step from both proves the Adam moments agree too.
    let (mut a, mut b) = (a, b);
    let x = Tensor::<4>::ones([1, 3, 32, 32], &device);
    let la = a.train_step(x.clone(), x.clone() * 0.5);
    let lb = b.train_step(x.clone(), x * 0.5);
    assert_eq!(la, lb);
    assert_eq!(a.nets().g_b.to_state_dict(), b.nets().g_b.to_state_dict());

    // The run folder has what the official code writes, and the report.
    let run = dir.join("resumed");
    for file in [
        "latest_net_G_A.safetensors",
        "2_net_D_B.safetensors",
        "loss_log.txt",
        "web/index.html",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let log = std::fs::read_to_string(run.join("loss_log.txt")).unwrap();
    assert!(log.contains("(epoch: 3, iters: "), "{log}");
    assert!(log.contains("D_A: ") && log.contains("cycle_B: "), "{log}");
    let html = std::fs::read_to_string(run.join("web/index.html")).unwrap();
    assert!(html.contains("epoch [3]") && html.contains("epoch [1]") && html.contains("<svg"));
    assert!(run.join("web/images/epoch003_fake_B.png").is_file());
    // The official-named weights load into a fresh generator.
    let g = ResnetGeneratorConfig::new(3, 3)
        .with_ngf(4)
        .with_n_blocks(6)
        .init_seeded(&common::device(), 0)
        .load_pytorch(run.join("latest_net_G_A.safetensors"), &common::device())
        .unwrap();
    assert_eq!(g.to_state_dict(), g_a_after_epoch_3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_step_budget_stops_inside_an_epoch_and_a_resume_finishes_it() {
    let _serial = serial();
    let dir = temp_dir("budget");
    let device = common::device().autodiff();
    let config = tiny_config();
    let straight = RunOptions {
        stop_after_epoch: Some(2),
        ..run_options(&dir, "straight")
    };
    train(&config, stripes(), &straight, &device).unwrap();

    // Six images per epoch in batches of two: a budget of 8 stops one batch into epoch 2.
    let budget = RunOptions {
        max_iters: Some(8),
        ..run_options(&dir, "budget")
    };
    let stopped = train(&config, stripes(), &budget, &device).unwrap();
    assert_eq!((stopped.last_epoch, stopped.total_iters), (2, 8));
    let checkpoints = Checkpointer::new(dir.join("budget")).unwrap();
    let state = checkpoints.state("latest").unwrap();
    assert_eq!(
        (state.epoch, state.epoch_progress, state.total_iters),
        (1, 2, 8)
    );
    assert!(!checkpoints.exists("2"), "epoch 2 is not complete");
    assert!(stopped.train_seconds > 0.0);
    // The run reports the training time its checkpoint records, so a resume adds to it.
    assert_eq!(state.train_seconds, stopped.train_seconds);

    // Resuming with the budget already spent trains nothing.
    let spent = RunOptions {
        continue_train: true,
        ..budget.clone()
    };
    let again = train(&config, stripes(), &spent, &device).unwrap();
    assert_eq!(again.total_iters, 8);
    assert_eq!(
        again.train_seconds, stopped.train_seconds,
        "no time trained"
    );
    assert_eq!(checkpoints.state("latest").unwrap().total_iters, 8);

    // Resuming without it finishes epoch 2 with the batches the first run did not see.
    let rest = RunOptions {
        continue_train: true,
        max_iters: None,
        stop_after_epoch: Some(2),
        ..budget
    };
    let finished = train(&config, stripes(), &rest, &device).unwrap();
    assert_eq!((finished.last_epoch, finished.total_iters), (2, 12));
    assert!(finished.train_seconds > stopped.train_seconds);
    assert_eq!(
        checkpoints.state("latest").unwrap().train_seconds,
        finished.train_seconds
    );
    assert_same_latest(&dir, "straight", "budget", &device, "after epoch 2");
    assert_eq!(checkpoints.state("latest").unwrap().epoch_progress, 0);
    let log = std::fs::read_to_string(dir.join("budget").join("loss_log.txt")).unwrap();
    assert!(log.contains("(epoch: 2, iters: 6"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn continue_train_with_nothing_to_resume_is_an_error() {
    let _serial = serial();
    let dir = temp_dir("nothing");
    let options = RunOptions {
        continue_train: true,
        ..run_options(&dir, "empty")
    };
    let err = train(
        &tiny_config(),
        stripes(),
        &options,
        &common::device().autodiff(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("nothing to resume"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resuming_with_other_networks_is_an_error_naming_both() {
    let _serial = serial();
    let dir = temp_dir("other-networks");
    let device = common::device().autodiff();
    let first = RunOptions {
        stop_after_epoch: Some(1),
        ..run_options(&dir, "run")
    };
    train(&tiny_config(), stripes(), &first, &device).unwrap();
    let resume = RunOptions {
        continue_train: true,
        ..run_options(&dir, "run")
    };
    let err = train(&tiny_config().with_ngf(8), stripes(), &resume, &device).unwrap_err();
    assert!(matches!(err, CycleGanError::Checkpoint { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("other networks")
            && message.contains("ngf: 4")
            && message.contains("ngf: 8"),
        "{message}"
    );
    // Loss and optimizer options may change: the same networks resume.
    let changed = tiny_config().with_lambda_identity(0.0).with_lr(1e-4);
    train(&changed, stripes(), &resume, &device).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unwritable_checkpoint_dir_is_an_error() {
    let _serial = serial();
    let dir = temp_dir("unwritable");
    std::fs::create_dir_all(&dir).unwrap();
    // A file where the run folder should be.
    std::fs::write(dir.join("blocked"), b"file").unwrap();
    let options = RunOptions {
        checkpoints_dir: dir.join("blocked"),
        ..run_options(&dir, "x")
    };
    let err = train(
        &tiny_config(),
        stripes(),
        &options,
        &common::device().autodiff(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("blocked"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn divergence_stops_with_the_iteration_and_keeps_the_checkpoint() {
    let _serial = serial();
    let dir = temp_dir("diverge");
    let device = common::device().autodiff();
    let good = RunOptions {
        stop_after_epoch: Some(1),
        ..run_options(&dir, "run")
    };
    train(&tiny_config(), stripes(), &good, &device).unwrap();
    let before = std::fs::read(dir.join("run/latest_net_G_A.safetensors")).unwrap();
    // An absurd learning rate on the resumed run makes the losses overflow in epoch 2.
    let config = tiny_config().with_lr(1e30);
    let diverging = RunOptions {
        continue_train: true,
        stop_after_epoch: Some(4),
        ..run_options(&dir, "run")
    };
    let err = train(&config, stripes(), &diverging, &device).unwrap_err();
    assert!(
        matches!(err, CycleGanError::Diverged { epoch: 2, .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(
        err.contains("iteration") && err.contains("not finite") && !err.contains("--"),
        "{err}"
    );
    assert_eq!(
        before,
        std::fs::read(dir.join("run/latest_net_G_A.safetensors")).unwrap()
    );
    let state = Checkpointer::new(dir.join("run"))
        .unwrap()
        .state("latest")
        .unwrap();
    assert_eq!(
        state.epoch, 1,
        "the last good checkpoint is still the resume point"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_held_out_test_page_scores_the_trained_generators_and_the_report_links_it() {
    use cyclegan_burn::data::StripeShapes;
    use cyclegan_burn::metrics::StripeScores;
    use cyclegan_burn::metrics::visual::VisualComparison;
    use cyclegan_burn::train::report::Report;
    use cyclegan_burn::train::{HeldOutScores, write_test_page};

    let _serial = serial();
    let dir = temp_dir("test-page");
    let options = RunOptions {
        stop_after_epoch: Some(1),
        ..run_options(&dir, "run")
    };
    let summary = train(
        &tiny_config(),
        stripes(),
        &options,
        &common::device().autodiff(),
    )
    .unwrap();
    let index = std::fs::read_to_string(&summary.report).unwrap();
    assert!(!index.contains("test.html"), "no test page yet");

    // The trained generators, on an inference device, as the train program does.
    let device = common::device();
    let (nets, _) = Checkpointer::new(&summary.run_dir)
        .unwrap()
        .load_nets("latest", &device)
        .unwrap();
    let data = StripeShapes::test(32, 5);
    let (page, scores) = write_test_page(
        &summary.run_dir,
        &nets.g_a,
        Some(&nets.g_b),
        &data,
        3,
        &device,
    )
    .unwrap();
    assert_eq!(page, summary.run_dir.join("web/test.html"));

    // The page's scores are evaluate's: StripeScores of G_A (A → B) and G_B (B → A).
    let expected = HeldOutScores {
        data,
        a_to_b: StripeScores::measure(&nets.g_a, &data, true, &device).unwrap(),
        b_to_a: Some(StripeScores::measure(&nets.g_b, &data, false, &device).unwrap()),
        visual_a_to_b: VisualComparison::measure(&nets.g_a, &data, true, &device).unwrap(),
        visual_b_to_a: Some(VisualComparison::measure(&nets.g_b, &data, false, &device).unwrap()),
    };
    assert_eq!(scores, expected);
    assert_eq!(
        scores.a_to_b.identity[2], 0.0,
        "identity keeps the background"
    );
    assert!(
        scores.a_to_b.identity[0] > 0.0,
        "flat and striped objects differ"
    );
    let (b_to_a, a_to_b) = scores.ratios_to_identity();
    let scores_b_to_a = scores.b_to_a.unwrap();
    assert_eq!(
        b_to_a,
        Some(scores_b_to_a.model[0] / scores_b_to_a.identity[0])
    );
    assert_eq!(a_to_b, scores.a_to_b.model[1] / scores.a_to_b.identity[1]);

    // Three rows of input | translation | truth for both directions, and both score tables.
    let html = std::fs::read_to_string(&page).unwrap();
    for index in 0..3 {
        for name in ["AtoB", "BtoA"] {
            for column in ["input", "output", "truth"] {
                let file = format!("test/{index:03}_{name}_{column}.png");
                assert!(html.contains(&file), "{file} not on the page");
                let image = image::open(summary.run_dir.join("web").join(&file)).unwrap();
                assert_eq!((image.width(), image.height()), (32, 32));
            }
        }
    }
    assert!(!html.contains("003_AtoB"), "only the samples asked for");
    // The pictures first, then what they show as numbers: the model beside the identity and a
    // perfect translation, whose scores are what the definitions make them.
    let pictures = html.find("The first 3 latents").expect("the pictures");
    let numbers = html
        .find("What the pictures show")
        .expect("the visual scores");
    assert!(pictures < numbers, "the page leads with the pictures");
    let (forward, backward) = (scores.visual_a_to_b, scores.visual_b_to_a.unwrap());
    assert!(html.contains(&format!("{:.3}", forward.model.shape_iou)));
    assert!(html.contains("perfect (output = truth)"));
    for visual in [forward, backward] {
        assert_eq!(visual.identity.background_l1, 0.0);
        assert_eq!(visual.perfect.background_l1, 0.0);
        assert_eq!(visual.perfect.colour_error, 0.0);
        assert!(visual.perfect.shape_iou > 0.9, "{visual:?}");
    }
    assert_eq!(
        forward.perfect.stripe_energy, 1.0,
        "the truth against itself"
    );
    assert_eq!(
        backward.identity.stripe_energy, 1.0,
        "the input against itself"
    );
    assert!(
        forward.identity.stripe_energy < 0.15,
        "flat objects have no stripes"
    );
    assert!(html.contains(&format!("{:.4}", scores_b_to_a.model[0])));
    assert!(html.contains(&format!("{:.4}", scores.a_to_b.identity[1])));
    // The truth column is the other domain's rendering of the same latent.
    let truth = image::open(summary.run_dir.join("web/test/000_AtoB_truth.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(truth, data.paired(0).b);

    // Rewriting the training report (without a new loss-log section) links the page.
    let log_before = std::fs::read_to_string(summary.run_dir.join("loss_log.txt")).unwrap();
    Report::open(&summary.run_dir, "run")
        .unwrap()
        .write_html()
        .unwrap();
    let index = std::fs::read_to_string(&summary.report).unwrap();
    assert!(index.contains("href=\"test.html\""), "{index}");
    assert!(index.contains("epoch [1]"), "the samples are kept");
    let log_after = std::fs::read_to_string(summary.run_dir.join("loss_log.txt")).unwrap();
    assert_eq!(log_before, log_after);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn save_latest_freq_checkpoints_the_four_nets_inside_an_epoch_and_a_resume_goes_on_from_there() {
    use cyclegan_burn::data::{Domain, StripeShapes};

    let _serial = serial();
    let dir = temp_dir("latest-freq");
    // Six images per domain, taken in order in batches of two.
    let data_dir = dir.join("data");
    let images = StripeShapes::train(32, 6);
    for (domain, folder) in [(Domain::A, "trainA"), (Domain::B, "trainB")] {
        std::fs::create_dir_all(data_dir.join(folder)).unwrap();
        for index in 0..6 {
            let path = data_dir.join(folder).join(format!("{index}.png"));
            images.image(domain, index).save(path).unwrap();
        }
    }
    let dataset = || {
        let options = DatasetOptions {
            serial_batches: true,
            transform: TransformOptions {
                preprocess: Preprocess::None,
                no_flip: true,
                ..Default::default()
            },
            ..Default::default()
        };
        Arc::new(UnalignedDataset::new(&data_dir, options).unwrap())
    };
    let device = common::device().autodiff();
    let config = tiny_config();
    let options = |name: &str| RunOptions {
        stop_after_epoch: Some(1),
        save_latest_freq: 4,
        save_epoch_freq: 0,
        ..run_options(&dir, name)
    };
    train(&config, dataset(), &options("straight"), &device).unwrap();

    // The fifth A image is broken: the run fails in its third batch, after the checkpoint
    // that `save_latest_freq` wrote at image 4.
    let good = std::fs::read(data_dir.join("trainA/4.png")).unwrap();
    std::fs::write(data_dir.join("trainA/4.png"), b"not a png").unwrap();
    let err = train(&config, dataset(), &options("broken"), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("4.png"), "{err}");
    let checkpoints = Checkpointer::new(dir.join("broken")).unwrap();
    let state = checkpoints.state("latest").unwrap();
    assert_eq!(
        (state.epoch, state.total_iters, state.epoch_progress),
        (0, 4, 4)
    );
    for name in ["G_A", "G_B", "D_A", "D_B"] {
        let path = dir.join(format!("broken/latest_net_{name}.safetensors"));
        assert!(path.is_file(), "{} missing", path.display());
    }

    // Mended, the run resumes at image 4 and ends where the uninterrupted one did.
    std::fs::write(data_dir.join("trainA/4.png"), good).unwrap();
    let resumed = RunOptions {
        continue_train: true,
        ..options("broken")
    };
    let finished = train(&config, dataset(), &resumed, &device).unwrap();
    assert_eq!((finished.last_epoch, finished.total_iters), (1, 6));
    assert_same_latest(&dir, "straight", "broken", &device, "after epoch 1");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Records every event of a run as a line.
#[derive(Default)]
struct Trace(Vec<String>);

impl TrainObserver for Trace {
    fn on_event(&mut self, event: &TrainEvent<'_>) -> Result<(), CycleGanError> {
        let line = match event {
            TrainEvent::Started {
                first_epoch,
                last_epoch,
                ..
            } => format!("started {first_epoch}..={last_epoch}"),
            TrainEvent::EpochStarted { epoch, steps, .. } => {
                format!("epoch {epoch}: {steps} steps")
            }
            TrainEvent::Step(step) => format!(
                "step {} {}/{} total {}",
                step.epoch, step.epoch_iter, step.epoch_size, step.total_iters
            ),
            TrainEvent::Losses(losses) => format!("losses {} {}", losses.epoch, losses.epoch_iter),
            TrainEvent::EpochEnded {
                epoch, complete, ..
            } => format!("end {epoch} complete {complete}"),
            TrainEvent::Checkpoint { label, state, .. } => {
                format!("checkpoint {label} {}/{}", state.epoch, state.total_iters)
            }
            TrainEvent::Warning(warning) => format!("warning {warning}"),
            TrainEvent::Finished(summary) => format!("finished {}", summary.total_iters),
        };
        self.0.push(line);
        Ok(())
    }
}

#[test]
fn a_run_reports_every_step_loss_line_and_checkpoint_as_events_in_order() {
    let _serial = serial();
    let dir = temp_dir("events");
    let device = common::device().autodiff();
    let options = RunOptions {
        stop_after_epoch: Some(2),
        save_latest_freq: 4,
        ..run_options(&dir, "run")
    };
    let mut trace = Trace::default();
    let summary = train_observed(
        &tiny_config(),
        stripes(),
        &options,
        &device,
        &mut [&mut trace],
    )
    .unwrap();
    // Batches of 2 of 6 images; losses every 4 images and at an epoch's end (unless just
    // logged); `latest` every 4 images and at every epoch's end; epoch 2 kept.
    let expected = [
        "started 1..=2",
        "epoch 1: 3 steps",
        "step 1 2/6 total 2",
        "step 1 4/6 total 4",
        "losses 1 4",
        "checkpoint latest 0/4",
        "step 1 6/6 total 6",
        "losses 1 6",
        "end 1 complete true",
        "checkpoint latest 1/6",
        "epoch 2: 3 steps",
        "step 2 2/6 total 8",
        "losses 2 2",
        "checkpoint latest 1/8",
        "step 2 4/6 total 10",
        "step 2 6/6 total 12",
        "losses 2 6",
        "checkpoint latest 1/12",
        "end 2 complete true",
        "checkpoint latest 2/12",
        "checkpoint 2 2/12",
        "finished 12",
    ];
    assert_eq!(trace.0, expected);
    // The run's own observers wrote what the events say: a loss line per `losses` event,
    // the epoch-2 checkpoint, the page.
    let log = std::fs::read_to_string(summary.run_dir.join("loss_log.txt")).unwrap();
    assert_eq!(log.lines().filter(|l| l.starts_with("(epoch:")).count(), 4);
    assert!(Checkpointer::new(&summary.run_dir).unwrap().exists("2"));
    assert!(summary.report.is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An observer's error stops the run with that error.
#[test]
fn an_observer_error_stops_the_run() {
    struct StopAfterFirstStep;
    impl TrainObserver for StopAfterFirstStep {
        fn on_event(&mut self, event: &TrainEvent<'_>) -> Result<(), CycleGanError> {
            match event {
                TrainEvent::Step(_) => Err(CycleGanError::config("observer", "stop here")),
                _ => Ok(()),
            }
        }
    }
    let _serial = serial();
    let dir = temp_dir("observer-error");
    let device = common::device().autodiff();
    let err = train_observed(
        &tiny_config(),
        stripes(),
        &run_options(&dir, "run"),
        &device,
        &mut [&mut StopAfterFirstStep],
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "invalid observer: stop here");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tiny_cut_config(mode: cyclegan_burn::cut::CutMode) -> cyclegan_burn::cut::CutConfig {
    use cyclegan_burn::cut::CutConfig;
    let base = CutConfig::new().with_cut_mode(mode);
    let schedule = base
        .schedule
        .clone()
        .with_n_epochs(2)
        .with_n_epochs_decay(1);
    base.clone()
        .with_networks(
            base.networks
                .with_net_g(GeneratorKind::Resnet6Blocks)
                .with_ngf(4)
                .with_ndf(4),
        )
        .with_netf_nc(8)
        .with_num_patches(16)
        .with_schedule(schedule)
        .with_seed(3)
}

/// A CUT run (FastCUT, with its random flips and patches) stopped after each epoch and
/// resumed ends with the weights, optimizer states and step count of an uninterrupted run;
/// its checkpoint files carry the official names (`_net_G`, `_net_D`, `_net_F`), and a
/// short last batch is dropped (7 images in batches of 2: 3 steps an epoch).
#[test]
fn a_resumed_cut_run_equals_an_uninterrupted_one() {
    use cyclegan_burn::cut::CutMode;
    use cyclegan_burn::train::train_cut;
    let _serial = serial();
    let dir = temp_dir("cut-resume");
    let device = common::device().autodiff();
    let config = tiny_cut_config(CutMode::FastCut);
    let data = || stripes_of(7);
    let whole = train_cut(&config, data(), &run_options(&dir, "whole"), &device).unwrap();
    assert_eq!(whole.last_epoch, 3);
    assert_eq!(
        whole.total_iters,
        3 * 6,
        "the short last batch of each epoch is dropped"
    );
    assert!(whole.last_epoch_losses.is_finite());
    for epoch in 1..=3 {
        let options = RunOptions {
            continue_train: epoch > 1,
            stop_after_epoch: Some(epoch),
            ..run_options(&dir, "pieces")
        };
        train_cut(&config, data(), &options, &device).unwrap();
    }
    let load = |name: &str| {
        Checkpointer::new(dir.join(name))
            .unwrap()
            .load_cut("latest", &device)
            .unwrap()
    };
    let ((whole_cut, whole_state), (pieces_cut, pieces_state)) = (load("whole"), load("pieces"));
    assert_eq!(whole_state.total_iters, pieces_state.total_iters);
    assert_eq!(whole_cut.steps_done(), 9);
    assert_eq!(pieces_cut.steps_done(), 9);
    let weights = |cut: &cyclegan_burn::cut::Cut| {
        let nets = cut.nets();
        [
            nets.g.to_state_dict(),
            nets.d.to_state_dict(),
            nets.f.to_state_dict(),
        ]
    };
    assert_eq!(weights(&whole_cut), weights(&pieces_cut), "bit for bit");
    for net in ["G", "D", "F"] {
        let file = dir
            .join("whole")
            .join(format!("latest_net_{net}.safetensors"));
        assert!(file.is_file(), "{}", file.display());
    }
    let g =
        ResnetGenerator::from_pytorch(dir.join("whole/latest_net_G.safetensors"), &device).unwrap();
    assert!(
        g.antialias,
        "CUT's anti-aliased generator, detected from its keys"
    );
    // A CUT checkpoint is not a CycleGAN's.
    let error = Checkpointer::new(dir.join("whole"))
        .unwrap()
        .load("latest", &device)
        .unwrap_err()
        .to_string();
    assert!(error.contains("CUT"), "{error}");
    let log = std::fs::read_to_string(dir.join("whole/loss_log.txt")).unwrap();
    assert!(
        log.contains("G_GAN:") && log.contains("NCE:") && !log.contains("NCE_Y"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// CUT's fine-tuning phase: after `n_epochs`, images are resized straight to `crop_size`.
#[test]
fn cut_data_resize_straight_to_the_crop_in_the_decay_epochs() {
    use burn::data::dataset::Dataset;
    let options = DatasetOptions {
        transform: TransformOptions {
            preprocess: Preprocess::ResizeAndCrop,
            load_size: 48,
            crop_size: 32,
            no_flip: true,
            ..Default::default()
        },
        seed: 1,
        ..Default::default()
    };
    let dataset = UnalignedDataset::stripe_shapes(32, 4, options)
        .unwrap()
        .with_fine_tuning_after(Some(2));
    let item = |epoch| {
        dataset.set_epoch(epoch);
        dataset.get(0).unwrap().a.values
    };
    let plain = {
        let options = DatasetOptions {
            transform: TransformOptions {
                preprocess: Preprocess::ResizeAndCrop,
                load_size: 32,
                crop_size: 32,
                no_flip: true,
                ..Default::default()
            },
            seed: 1,
            ..Default::default()
        };
        let dataset = UnalignedDataset::stripe_shapes(32, 4, options).unwrap();
        dataset.set_epoch(3);
        dataset.get(0).unwrap().a.values
    };
    assert!(!dataset.is_fine_tuning() || dataset.epoch() > 2);
    assert_ne!(item(2), plain, "epoch 2: resized to 48 and cropped");
    assert_eq!(
        item(3),
        plain,
        "epoch 3: resized to 32, the crop is the whole image"
    );
    assert!(dataset.is_fine_tuning());
}
