//! Crash safety: a training process killed with SIGKILL at random moments (checkpoint
//! writes included) never leaves a corrupt checkpoint, and training resumes from the last
//! complete one.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cyclegan_burn::data::{DatasetOptions, Preprocess, TransformOptions, UnalignedDataset};
use cyclegan_burn::import::state_dict::read_state_dict;
use cyclegan_burn::model::GeneratorKind;
use cyclegan_burn::prelude::*;
use cyclegan_burn::train::{Checkpointer, RunOptions, train};

const DIR_VAR: &str = "CYCLEGAN_BURN_CRASH_DIR";

fn config() -> CycleGanConfig {
    CycleGanConfig::new()
        .with_net_g(GeneratorKind::Resnet6Blocks)
        .with_ngf(4)
        .with_ndf(4)
        .with_n_epochs(500)
        .with_n_epochs_decay(0)
        .with_seed(1)
}

fn options(dir: &Path, continue_train: bool, stop: usize) -> RunOptions {
    RunOptions {
        name: "crash".into(),
        checkpoints_dir: dir.to_path_buf(),
        batch_size: 1,
        num_threads: 1,
        save_epoch_freq: 3,
        continue_train,
        stop_after_epoch: Some(stop),
        ..Default::default()
    }
}

fn dataset() -> Arc<UnalignedDataset> {
    let options = DatasetOptions {
        transform: TransformOptions {
            preprocess: Preprocess::None,
            ..Default::default()
        },
        ..Default::default()
    };
    Arc::new(UnalignedDataset::stripe_shapes(32, 4, options).unwrap())
}

/// The process that gets killed: trains (resuming when it can) until it is stopped.
#[test]
#[ignore = "run by sigkill_never_corrupts_a_checkpoint as a child process"]
fn crash_child() {
    let dir = PathBuf::from(std::env::var(DIR_VAR).expect("run by the crash test"));
    let resume = Checkpointer::new(dir.join("crash"))
        .unwrap()
        .exists("latest");
    train(
        &config(),
        dataset(),
        &options(&dir, resume, 500),
        &common::device().autodiff(),
    )
    .unwrap();
}

fn check_run_folder(run: &Path, device: &Device) -> Option<usize> {
    let checkpoints = Checkpointer::new(run).unwrap();
    for name in ["G_A", "G_B", "D_A", "D_B"] {
        let path = run.join(format!("latest_net_{name}.safetensors"));
        if path.exists() {
            read_state_dict(&path).unwrap_or_else(|e| panic!("corrupt file after a kill: {e}"));
        }
    }
    if !checkpoints.exists("latest") {
        return None;
    }
    let (_, state) = checkpoints
        .load("latest", device)
        .unwrap_or_else(|e| panic!("corrupt resume bundle after a kill: {e}"));
    Some(state.epoch)
}

/// The epoch of the `latest` checkpoint, if one is complete (its state is written last).
fn latest_epoch(run: &Path) -> Option<usize> {
    let state = Checkpointer::new(run).ok()?.state("latest").ok()?;
    Some(state.epoch)
}

#[test]
fn sigkill_never_corrupts_a_checkpoint() {
    let dir = std::env::temp_dir().join(format!("cyclegan-burn-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let device = common::device().autodiff();
    let exe = std::env::current_exe().unwrap();
    let mut last_epoch = 0;
    let mut rng_state = 0x2545_F491_4F6C_DD1Du64;
    let mut kills = 0;
    for round in 0..8 {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--ignored", "--test-threads", "1"])
            .env(DIR_VAR, &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the child has finished an epoch beyond the last checkpoint seen, so
        // every round makes progress however loaded the machine is, then a pseudo-random
        // 0-1 s more: with epochs of a fraction of a second, kills land at every point of
        // an epoch, checkpoint writes included.
        let deadline = Instant::now() + Duration::from_secs(300);
        while child.try_wait().unwrap().is_none()
            && latest_epoch(&dir.join("crash")).is_none_or(|epoch| epoch <= last_epoch)
        {
            assert!(
                Instant::now() < deadline,
                "round {round}: no new checkpoint within 300 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        std::thread::sleep(Duration::from_millis(rng_state % 1000));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        if let Some(epoch) = check_run_folder(&dir.join("crash"), &device) {
            assert!(
                epoch >= last_epoch,
                "round {round}: resumed from epoch {epoch} after {last_epoch}"
            );
            last_epoch = epoch;
        }
    }
    assert!(kills >= 6, "the child should still be training when killed");
    assert!(
        last_epoch >= 8,
        "every round trained at least one more epoch (epoch {last_epoch})"
    );
    // A final, uninterrupted resume picks up from the last complete checkpoint.
    let summary = train(
        &config(),
        dataset(),
        &options(&dir, true, last_epoch + 1),
        &device,
    )
    .unwrap();
    assert_eq!(summary.last_epoch, last_epoch + 1);
    let _ = std::fs::remove_dir_all(&dir);
}
