//! The held-out test page of a StripeShapes run: both generators on test latents the model
//! never saw, as input | translation | ground truth, with the scores of
//! [`StripeScores`] beside the identity baseline (output = input).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use burn::prelude::*;

use crate::data::StripeShapes;
use crate::data::image::save_rgb;
use crate::error::CycleGanError;
use crate::io::write_atomic;
use crate::metrics::StripeScores;
use crate::model::Generator;
use crate::translate::translate_rgb;

/// The file name of the page, in the run's `web/` folder beside the training report.
pub const TEST_PAGE: &str = "test.html";

/// What the held-out test page shows: the scores of both directions on the test split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldOutScores {
    /// The test split that was scored (paired latents never used for training).
    pub data: StripeShapes,
    /// G_A (flat → striped): `[in-mask L1, low-pass in-mask L1, background L1]`.
    pub a_to_b: StripeScores,
    /// G_B (striped → flat), the same columns.
    pub b_to_a: StripeScores,
}

impl HeldOutScores {
    /// Scores both generators on `data` (a [`StripeShapes::test`] split).
    pub fn measure(
        g_a: &Generator,
        g_b: &Generator,
        data: &StripeShapes,
        device: &Device,
    ) -> Result<Self, CycleGanError> {
        Ok(Self {
            data: *data,
            a_to_b: StripeScores::measure(g_a, data, true, device)?,
            b_to_a: StripeScores::measure(g_b, data, false, device)?,
        })
    }

    /// The scores that say whether the translation works, as ratios to the identity
    /// baseline (below 1: closer to the truth than leaving the image alone): B → A in-mask
    /// L1 and A → B low-pass in-mask L1.
    pub fn ratios_to_identity(&self) -> [f64; 2] {
        [
            self.b_to_a.model[0] / self.b_to_a.identity[0].max(f64::MIN_POSITIVE),
            self.a_to_b.model[1] / self.a_to_b.identity[1].max(f64::MIN_POSITIVE),
        ]
    }
}

/// Writes `<run_dir>/web/test.html` and its images: the first `samples` test latents of
/// `data` through both generators, and the scores over all of `data`. Returns the page's
/// path and the scores.
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
///     write_test_page(&run_dir, &g(0), &g(1), &StripeShapes::test(16, 4), 2, &device)?;
/// assert!(page.ends_with("web/test.html") && page.is_file());
/// assert_eq!(scores.a_to_b.identity[2], 0.0); // the input's own background
/// # std::fs::remove_dir_all(&run_dir)?;
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_test_page(
    run_dir: &Path,
    g_a: &Generator,
    g_b: &Generator,
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
        for (name, input, generator, truth) in [
            ("AtoB", &item.a, g_a, &item.b),
            ("BtoA", &item.b, g_b, &item.a),
        ] {
            let output = translate_rgb(generator, input, device)?;
            for (column, image) in [("input", input), ("output", &output), ("truth", truth)] {
                let file = format!("{index:03}_{name}_{column}.png");
                save_rgb(image, images.join(&file))?;
                let _ = write!(
                    rows,
                    "<td><img src=\"test/{file}\" alt=\"{name} {column}\"></td>"
                );
            }
            if name == "AtoB" {
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
    let [b_to_a_ratio, a_to_b_ratio] = scores.ratios_to_identity();
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Held-out test</title>\
         <style>body{{font-family:sans-serif;margin:20px}} img{{width:96px;image-rendering:pixelated}} \
         td{{text-align:center;font-size:12px}} td.gap{{width:24px}} \
         table.scores td,table.scores th{{padding:2px 10px;font-size:14px}}</style></head><body>\n\
         <h1>Held-out test: {len} StripeShapes latents at {size}x{size} the model never saw</h1>\n\
         <p><a href=\"index.html\">training report</a></p>\n\
         <p>Domain A has flat objects, domain B the same objects striped. G_A should add stripes \
         (A&nbsp;→&nbsp;B) and G_B remove them (B&nbsp;→&nbsp;A), leaving the background alone. \
         Scores are mean absolute differences in [0, 1] inside the object (against the other \
         domain's rendering of the same latent; low-pass: after a blur of one stripe period, \
         so stripes at another phase still count as stripes) and on the background (against \
         the input). Lower is better; the identity row is what leaving the image alone scores.</p>\n\
         <p><b>B&nbsp;→&nbsp;A in-mask L1: {b_to_a_ratio:.2}× identity; \
         A&nbsp;→&nbsp;B low-pass in-mask L1: {a_to_b_ratio:.2}× identity; \
         background L1 {background_a:.3} / {background_b:.3}.</b></p>\n\
         {a_to_b}\n{b_to_a}\n\
         <h2>The first {shown} latents</h2>\n<table><tr><th>#</th><th>A (input)</th><th>G_A(A)</th>\
         <th>B (truth)</th><th></th><th>B (input)</th><th>G_B(B)</th><th>A (truth)</th></tr>\n\
         {rows}</table></body></html>\n",
        len = data.len,
        size = data.size,
        background_a = scores.a_to_b.model[2],
        background_b = scores.b_to_a.model[2],
        a_to_b = table("A → B (add stripes)", &scores.a_to_b),
        b_to_a = table("B → A (remove stripes)", &scores.b_to_a),
        shown = samples.min(data.len),
    );
    let page = web.join(TEST_PAGE);
    write_atomic(&page, html.as_bytes())?;
    Ok((page, scores))
}
