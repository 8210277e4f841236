//! The run's HTML report, `web/index.html` with per-epoch sample rows and a loss plot,
//! written by the [`Report`] observer.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use burn::prelude::*;

use super::events::{TrainEvent, TrainObserver};
use super::losses::StepLosses;
use super::test_page::TEST_PAGE;
use crate::data::image::{save_rgb, tensor_to_rgb};
use crate::error::CycleGanError;
use crate::io::write_atomic;

/// The visuals of the official CycleGAN, in its display order.
pub const VISUAL_NAMES: [&str; 8] = [
    "real_A", "fake_B", "rec_A", "idt_B", "real_B", "fake_A", "rec_B", "idt_A",
];

/// One point of the loss history.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LossPoint {
    /// Fractional epoch (`epoch − 1 + done/total`).
    pub epoch: f64,
    /// The losses (averaged since the previous point).
    pub losses: StepLosses,
}

/// Writes the sample images and `web/index.html` of a run folder: on every
/// [`TrainEvent::Losses`] a point of the loss plot, at every epoch's end the official
/// visuals of a batch (the first of the epoch, then the one of each `display_freq` images)
/// and the page.
#[derive(Debug)]
pub struct Report {
    dir: PathBuf,
    name: String,
    history: Vec<LossPoint>,
    epochs: Vec<usize>,
    display_freq: usize,
    visual_batch: Option<(Tensor<4>, Tensor<4>)>,
}

impl Report {
    /// The report of the run folder `dir` of the experiment `name` as it stands (its loss
    /// history, `web/losses.json`, and sample epochs), so that a resumed run continues its
    /// plot, and the page can be rewritten after training, e.g. once the
    /// [held-out test page](super::test_page) exists.
    pub fn open(dir: impl Into<PathBuf>, name: &str) -> Result<Self, CycleGanError> {
        let dir = dir.into();
        let images = dir.join("web").join("images");
        std::fs::create_dir_all(&images).map_err(|e| CycleGanError::io(&images, e))?;
        let history = std::fs::read(dir.join("web/losses.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let mut epochs: Vec<usize> = std::fs::read_dir(&images)
            .map_err(|e| CycleGanError::io(&images, e))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_prefix("epoch")?.split('_').next()?.parse().ok()
            })
            .collect();
        epochs.sort_unstable();
        epochs.dedup();
        Ok(Self {
            dir,
            name: name.to_string(),
            history,
            epochs,
            display_freq: 400,
            visual_batch: None,
        })
    }

    /// Keeps the batch of every `display_freq` images for the epoch's samples (the
    /// official `--display_freq`; default 400); 0 keeps the epoch's first batch.
    pub fn with_display_freq(mut self, display_freq: usize) -> Self {
        self.display_freq = display_freq;
        self
    }

    /// The page's path.
    pub fn index_path(&self) -> PathBuf {
        self.dir.join("web").join("index.html")
    }

    /// Adds a point to the loss plot.
    pub fn add_losses(&mut self, epoch: usize, epoch_fraction: f64, losses: &StepLosses) {
        self.history.push(LossPoint {
            epoch: epoch as f64 - 1.0 + epoch_fraction,
            losses: *losses,
        });
    }

    /// Saves one image per visual (first image of each batch) for `epoch`.
    pub fn save_visuals(
        &mut self,
        epoch: usize,
        visuals: &[(&str, Tensor<4>)],
    ) -> Result<(), CycleGanError> {
        for (name, tensor) in visuals {
            let [_, c, h, w] = tensor.dims();
            let first = tensor
                .clone()
                .slice(s![0..1, 0..c, 0..h, 0..w])
                .squeeze_dim::<3>(0);
            let path = self
                .dir
                .join("web/images")
                .join(format!("epoch{epoch:03}_{name}.png"));
            save_rgb(&tensor_to_rgb(first)?, &path)?;
        }
        if !self.epochs.contains(&epoch) {
            self.epochs.push(epoch);
        }
        Ok(())
    }

    /// Rewrites `web/index.html` (and `web/losses.json`).
    pub fn write_html(&self) -> Result<(), CycleGanError> {
        let json = serde_json::to_vec(&self.history).map_err(|e| {
            CycleGanError::io(self.dir.join("web/losses.json"), std::io::Error::other(e))
        })?;
        write_atomic(self.dir.join("web/losses.json"), &json)?;
        let mut html = String::new();
        let _ = write!(
            html,
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Experiment name = {name}</title>\
             <style>body{{font-family:sans-serif;margin:20px}} td{{text-align:center;font-size:12px}} \
             img{{width:128px;image-rendering:pixelated}}</style></head><body>\n\
             <h1>Experiment name = {name}</h1>\n{test_link}<h2>Losses</h2>\n{plot}\n",
            name = escape(&self.name),
            test_link = if self.dir.join("web").join(TEST_PAGE).is_file() {
                format!(
                    "<p><a href=\"{TEST_PAGE}\">Held-out test page</a>: translations of images the model never saw, with scores</p>\n"
                )
            } else {
                String::new()
            },
            plot = loss_plot_svg(&self.history)
        );
        let mut epochs = self.epochs.clone();
        epochs.sort_unstable_by(|a, b| b.cmp(a));
        for epoch in epochs {
            let _ = write!(html, "<h3>epoch [{epoch}]</h3>\n<table><tr>");
            for name in VISUAL_NAMES {
                let file = format!("images/epoch{epoch:03}_{name}.png");
                if self.dir.join("web").join(&file).is_file() {
                    let _ = write!(html, "<td><img src=\"{file}\"><br>{name}</td>");
                }
            }
            html.push_str("</tr></table>\n");
        }
        html.push_str("</body></html>\n");
        write_atomic(self.index_path(), html.as_bytes())
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A line chart of every loss against the epoch, as inline SVG.
fn loss_plot_svg(history: &[LossPoint]) -> String {
    const W: f64 = 800.0;
    const H: f64 = 320.0;
    const PAD: f64 = 45.0;
    const COLORS: [&str; 9] = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
        "#17becf",
    ];
    if history.is_empty() {
        return "<p>No losses logged yet.</p>".into();
    }
    let x_min = history.first().map(|p| p.epoch).unwrap_or(0.0);
    let x_max = history
        .last()
        .map(|p| p.epoch)
        .unwrap_or(1.0)
        .max(x_min + 1e-9);
    let y_max = history
        .iter()
        .flat_map(|p| p.losses.named().into_iter().map(|(_, v)| v as f64))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let x = |e: f64| PAD + (e - x_min) / (x_max - x_min) * (W - 2.0 * PAD);
    let y = |v: f64| H - PAD - v / y_max * (H - 2.0 * PAD);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{}\" style=\"background:#fff;border:1px solid #ccc\">\
         <line x1=\"{PAD}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000\"/><line x1=\"{PAD}\" y1=\"{PAD}\" x2=\"{PAD}\" y2=\"{}\" stroke=\"#000\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">epoch</text>\
         <text x=\"{PAD}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{x_min:.1}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{x_max:.1}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{y_max:.2}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">0</text>",
        H + 40.0,
        H - PAD,
        W - PAD,
        H - PAD,
        H - PAD,
        W / 2.0,
        H - 8.0,
        H - PAD + 15.0,
        W - PAD,
        H - PAD + 15.0,
        PAD - 4.0,
        PAD + 4.0,
        PAD - 4.0,
        H - PAD + 4.0,
    );
    for (k, name) in history[0]
        .losses
        .named()
        .iter()
        .map(|(n, _)| *n)
        .enumerate()
    {
        let points: Vec<String> = history
            .iter()
            .map(|p| (p.epoch, p.losses.named()[k].1 as f64))
            .filter(|(_, v)| v.is_finite())
            .map(|(e, v)| format!("{:.1},{:.1}", x(e), y(v)))
            .collect();
        let color = COLORS[k % COLORS.len()];
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"/>\
             <rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{color}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\">{name}</text>",
            points.join(" "),
            PAD + k as f64 * 80.0,
            H + 10.0,
            PAD + 14.0 + k as f64 * 80.0,
            H + 19.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Writes the options as the official `train_opt.txt`: one `name: value` line per option.
pub fn write_options(
    path: impl AsRef<Path>,
    options: &[(String, String)],
) -> Result<(), CycleGanError> {
    let mut text = String::from("----------------- Options ---------------\n");
    for (name, value) in options {
        let _ = writeln!(text, "{name:>25}: {value:<30}");
    }
    text.push_str("----------------- End -------------------\n");
    write_atomic(path, text.as_bytes())
}

impl TrainObserver for Report {
    fn on_event(&mut self, event: &TrainEvent<'_>) -> Result<(), CycleGanError> {
        match event {
            TrainEvent::EpochStarted { .. } => self.visual_batch = None,
            TrainEvent::Step(step) => {
                let before = step.total_iters - step.real_a.dims()[0];
                let crossed = self.display_freq > 0
                    && before / self.display_freq != step.total_iters / self.display_freq;
                if crossed || self.visual_batch.is_none() {
                    self.visual_batch = Some((step.real_a.clone(), step.real_b.clone()));
                }
            }
            TrainEvent::Losses(losses) => {
                self.add_losses(losses.epoch, losses.epoch_fraction, losses.losses)
            }
            TrainEvent::EpochEnded { epoch, model, .. } => {
                if let Some((real_a, real_b)) = self.visual_batch.take() {
                    self.save_visuals(*epoch, &model.visuals(real_a, real_b))?;
                }
                self.write_html()?;
            }
            TrainEvent::Finished(_) => self.write_html()?,
            _ => {}
        }
        Ok(())
    }
}
