//! The held-out test page of a StripeShapes run: the generators (both for CycleGAN, CUT's one
//! A → B) on test latents the model never saw, as input | translation | ground truth, then what a person sees there as numbers
//! ([`VisualComparison`]: shape, colour, background, stripes) beside the identity baseline
//! (output = input) and a perfect translation, then the L1 scores of [`StripeScores`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use burn::prelude::*;

use crate::data::StripeShapes;
use crate::data::image::save_rgb;
use crate::error::CycleGanError;
use crate::io::write_atomic;
use crate::metrics::StripeScores;
use crate::metrics::visual::{VisualComparison, VisualScores};
use crate::model::Generator;
use crate::translate::translate_rgb;

/// The file name of the page, in the run's `web/` folder beside the training report.
pub const TEST_PAGE: &str = "test.html";

/// What the held-out test page shows: the scores of each direction on the test split (B → A
/// only for models that have a B → A generator).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldOutScores {
    /// The test split that was scored (paired latents never used for training).
    pub data: StripeShapes,
    /// G_A (flat → striped): `[in-mask L1, low-pass in-mask L1, background L1]`.
    pub a_to_b: StripeScores,
    /// G_B (striped → flat), the same columns; `None` without a G_B (CUT).
    pub b_to_a: Option<StripeScores>,
    /// G_A's visual scores (shape IoU, colour error, background L1, stripe energy against
    /// the truth's).
    pub visual_a_to_b: VisualComparison,
    /// G_B's visual scores (stripe energy: what is left of the input's); `None` without a
    /// G_B.
    pub visual_b_to_a: Option<VisualComparison>,
}

impl HeldOutScores {
    /// Scores the generators on `data` (a [`StripeShapes::test`] split): `g_a` (A → B) and,
    /// when there is one, `g_b` (B → A).
    pub fn measure(
        g_a: &Generator,
        g_b: Option<&Generator>,
        data: &StripeShapes,
        device: &Device,
    ) -> Result<Self, CycleGanError> {
        Ok(Self {
            data: *data,
            a_to_b: StripeScores::measure(g_a, data, true, device)?,
            b_to_a: g_b
                .map(|g| StripeScores::measure(g, data, false, device))
                .transpose()?,
            visual_a_to_b: VisualComparison::measure(g_a, data, true, device)?,
            visual_b_to_a: g_b
                .map(|g| VisualComparison::measure(g, data, false, device))
                .transpose()?,
        })
    }

    /// The scores that say whether the translation works, as ratios to the identity
    /// baseline (below 1: closer to the truth than leaving the image alone): B → A in-mask
    /// L1 (when there is a G_B) and A → B low-pass in-mask L1.
    pub fn ratios_to_identity(&self) -> (Option<f64>, f64) {
        (
            self.b_to_a
                .map(|s| s.model[0] / s.identity[0].max(f64::MIN_POSITIVE)),
            self.a_to_b.model[1] / self.a_to_b.identity[1].max(f64::MIN_POSITIVE),
        )
    }
}

/// Writes `<run_dir>/web/test.html` and its images: the first `samples` test latents of
/// `data` through `g_a` (A → B) and `g_b` (B → A, when given: CUT has none), and the scores
/// over all of `data`. Returns the page's path and the scores.
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use cyclegan_burn::data::StripeShapes;
/// use cyclegan_burn::prelude::*;
/// use cyclegan_burn::train::test_page::write_test_page;
///
/// let device = backend::cpu();
/// let g = |seed| Generator::from(
///     ResnetGeneratorConfig::new(3, 3).with_ngf(4).with_n_blocks(1).init_seeded(&device, seed));
/// let run_dir = std::env::temp_dir().join("cyclegan-burn-doc-test-page");
/// let (page, scores) =
///     write_test_page(&run_dir, &g(0), Some(&g(1)), &StripeShapes::test(16, 4), 2, &device)?;
/// assert!(page.ends_with("web/test.html") && page.is_file());
/// assert_eq!(scores.a_to_b.identity[2], 0.0); // the input's own background
/// # std::fs::remove_dir_all(&run_dir)?;
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_test_page(
    run_dir: &Path,
    g_a: &Generator,
    g_b: Option<&Generator>,
    data: &StripeShapes,
    samples: usize,
    device: &Device,
) -> Result<(PathBuf, HeldOutScores), CycleGanError> {
    let scores = HeldOutScores::measure(g_a, g_b, data, device)?;
    let web = run_dir.join("web");
    let images = web.join("test");
    std::fs::create_dir_all(&images).map_err(|e| CycleGanError::io(&images, e))?;
    let mut rows = String::new();
    for index in 0..samples.min(data.len) {
        let item = data.paired(index);
        let _ = write!(rows, "<tr><td>{index}</td>");
        let directions = [
            Some(("AtoB", &item.a, g_a, &item.b)),
            g_b.map(|g_b| ("BtoA", &item.b, g_b, &item.a)),
        ];
        for (name, input, generator, truth) in directions.into_iter().flatten() {
            let output = translate_rgb(generator, input, device)?;
            for (column, image) in [("input", input), ("output", &output), ("truth", truth)] {
                let file = format!("{index:03}_{name}_{column}.png");
                save_rgb(image, images.join(&file))?;
                let _ = write!(
                    rows,
                    "<td><img src=\"test/{file}\" alt=\"{name} {column}\"></td>"
                );
            }
            if name == "AtoB" && g_b.is_some() {
                rows.push_str("<td class=\"gap\"></td>");
            }
        }
        rows.push_str("</tr>\n");
    }
    let table = |title: &str, s: &StripeScores| {
        let mut html = format!(
            "<h3>{title}</h3><table class=\"scores\"><tr><th></th><th>in-mask L1</th>\
             <th>low-pass in-mask L1</th><th>background L1 (vs input)</th></tr>"
        );
        for (name, row) in [
            ("model", s.model),
            ("identity (output = input)", s.identity),
        ] {
            let _ = write!(
                html,
                "<tr><td>{name}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>",
                row[0], row[1], row[2]
            );
        }
        html.push_str("</table>");
        html
    };
    let visual = |title: &str, s: &VisualComparison, energy_target: &str| {
        let mut html = format!(
            "<h3>{title}</h3><table class=\"scores\"><tr><th></th><th>shape IoU</th>\
             <th>colour error</th><th>background L1</th><th>stripe energy</th></tr>"
        );
        let row = |html: &mut String, name: &str, v: &VisualScores| {
            let _ = write!(
                html,
                "<tr><td>{name}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.2}</td></tr>",
                v.shape_iou, v.colour_error, v.background_l1, v.stripe_energy
            );
        };
        row(&mut html, "<b>model</b>", &s.model);
        row(&mut html, "identity (output = input)", &s.identity);
        row(&mut html, "perfect (output = truth)", &s.perfect);
        let _ = write!(
            html,
            "<tr class=\"target\"><td>looks right at</td><td>≥ 0.85</td><td>≤ 0.04</td>\
             <td>≤ 0.03</td><td>{energy_target}</td></tr></table>"
        );
        html
    };
    let (b_to_a_ratio, a_to_b_ratio) = scores.ratios_to_identity();
    let b_to_a_header = if g_b.is_some() {
        "<th></th><th>B (input)</th><th>G_B(B)</th><th>A (truth)</th>"
    } else {
        ""
    };
    let task = if g_b.is_some() {
        "G_A should add stripes (A&nbsp;→&nbsp;B) and G_B remove them (B&nbsp;→&nbsp;A)"
    } else {
        "G (A&nbsp;→&nbsp;B; this model has no B&nbsp;→&nbsp;A generator) should add stripes"
    };
    let b_to_a_ratio = b_to_a_ratio.map_or(String::new(), |ratio| {
        format!("B&nbsp;→&nbsp;A in-mask L1: {ratio:.2}× identity; ")
    });
    let background_b = scores
        .b_to_a
        .map_or(String::new(), |s| format!(" / {:.3}", s.model[2]));
    let visual_b_to_a = scores.visual_b_to_a.map_or(String::new(), |s| {
        visual("B → A (remove stripes)", &s, "≤ 0.15")
    });
    let b_to_a = scores
        .b_to_a
        .map_or(String::new(), |s| table("B → A (remove stripes)", &s));
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Held-out test</title>\
         <style>body{{font-family:sans-serif;margin:20px}} img{{width:128px;image-rendering:pixelated}} \
         td{{text-align:center;font-size:12px}} td.gap{{width:24px}} \
         table.scores td,table.scores th{{padding:2px 10px;font-size:14px}} \
         tr.target td{{color:#555;font-style:italic}}</style></head><body>\n\
         <h1>Held-out test: {len} StripeShapes latents at {size}x{size} the model never saw</h1>\n\
         <p><a href=\"index.html\">training report</a> · Domain A has flat objects, domain B \
         the same objects striped. {task}, keeping each object's shape and colour and leaving \
         the background alone.</p>\n\
         <h2>The first {shown} latents</h2>\n<table><tr><th>#</th><th>A (input)</th><th>G_A(A)</th>\
         <th>B (truth)</th>{b_to_a_header}</tr>\n\
         {rows}</table>\n\
         <h2>What the pictures show, as numbers ({len} latents)</h2>\n\
         <p>Shape IoU: the pixels that differ from the latent's known background by more than \
         0.1, against the true object mask. Colour error: the object's mean colour against the \
         truth's. Background L1: outside the object, against the input. Stripe energy: what a \
         blur of one stripe period removes inside the object, A&nbsp;→&nbsp;B as a ratio to the \
         truth's stripes, B&nbsp;→&nbsp;A to the input's (what is left of them). Values in \
         [0, 1]; the perfect row is the other domain's rendering of the same latent.</p>\n\
         {visual_a_to_b}\n{visual_b_to_a}\n\
         <h2>L1 scores</h2>\n\
         <p>Mean absolute differences in [0, 1] inside the object (against the other \
         domain's rendering of the same latent; low-pass: after a blur of one stripe period, \
         so stripes at another phase still count as stripes) and on the background (against \
         the input). Lower is better; the identity row is what leaving the image alone scores. \
         {b_to_a_ratio}A&nbsp;→&nbsp;B low-pass in-mask L1: {a_to_b_ratio:.2}× identity; \
         background L1 {background_a:.3}{background_b}.</p>\n\
         {a_to_b}\n{b_to_a}\n</body></html>\n",
        len = data.len,
        size = data.size,
        background_a = scores.a_to_b.model[2],
        visual_a_to_b = visual("A → B (add stripes)", &scores.visual_a_to_b, "0.6–1.4"),
        a_to_b = table("A → B (add stripes)", &scores.a_to_b),
        shown = samples.min(data.len),
    );
    let page = web.join(TEST_PAGE);
    write_atomic(&page, html.as_bytes())?;
    Ok((page, scores))
}
