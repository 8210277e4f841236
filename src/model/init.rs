//! Weight initialisation as the official `init_weights`, drawn on the host from a seeded RNG.
//!
//! The official code initialises every `Conv*` weight with the chosen scheme, every conv bias
//! with 0, and BatchNorm weights with N(1, gain) and biases with 0. Drawing the numbers on the
//! host (rather than with a backend's RNG) makes a seeded network identical on every backend
//! and independent of the order in which Burn's lazy parameters are first touched.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Weight initialisation scheme (`--init_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum InitType {
    /// N(0, gain). The official default, with gain 0.02.
    #[default]
    Normal,
    /// Xavier/Glorot normal with the given gain.
    Xavier,
    /// Kaiming/He normal, fan-in mode, for ReLU (`a = 0`); the gain is not used, as in the
    /// official code.
    Kaiming,
    /// (Semi-)orthogonal matrix times the gain.
    Orthogonal,
}

crate::names::official_names!(InitType, "init_type", {
    Normal => "normal",
    Xavier => "xavier",
    Kaiming => "kaiming",
    Orthogonal => "orthogonal",
});

/// A seeded source of initial weights, and the one builder of initialised conv layers that
/// every network uses.
#[derive(Debug)]
pub struct WeightInit {
    init_type: InitType,
    gain: f64,
    rng: StdRng,
}

impl WeightInit {
    /// A weight source for `init_type` with `gain` (the official `init_gain`), seeded.
    pub fn new(init_type: InitType, gain: f64, seed: u64) -> Self {
        Self {
            init_type,
            gain,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// One standard normal draw (Box–Muller, f64).
    fn standard_normal(&mut self) -> f64 {
        loop {
            let u1: f64 = self.rng.random();
            let u2: f64 = self.rng.random();
            if u1 > f64::MIN_POSITIVE {
                return (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            }
        }
    }

    fn normal_vec(&mut self, n: usize, mean: f64, std: f64) -> Vec<f32> {
        (0..n)
            .map(|_| (mean + std * self.standard_normal()) as f32)
            .collect()
    }

    /// Values for a conv or conv-transpose weight of PyTorch shape `[s0, s1, kh, kw]`.
    ///
    /// Fans follow `torch.nn.init._calculate_fan_in_and_fan_out`: fan_in = s1·kh·kw,
    /// fan_out = s0·kh·kw, for both layer kinds.
    pub fn weight_values(&mut self, shape: [usize; 4]) -> Vec<f32> {
        let receptive = shape[2] * shape[3];
        let fan_in = shape[1] * receptive;
        let fan_out = shape[0] * receptive;
        let numel = shape.iter().product();
        match self.init_type {
            InitType::Normal => self.normal_vec(numel, 0.0, self.gain),
            InitType::Xavier => {
                let std = self.gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
                self.normal_vec(numel, 0.0, std)
            }
            InitType::Kaiming => {
                let std = (2.0f64).sqrt() / (fan_in as f64).sqrt();
                self.normal_vec(numel, 0.0, std)
            }
            InitType::Orthogonal => self.orthogonal(shape[0], numel / shape[0]),
        }
    }

    /// `torch.nn.init.orthogonal_` on a `rows × cols` matrix (row-major), times the gain.
    fn orthogonal(&mut self, rows: usize, cols: usize) -> Vec<f32> {
        // Work on a tall m × n matrix (m ≥ n), column-major, then transpose back if needed.
        let transposed = rows < cols;
        let (m, n) = if transposed {
            (cols, rows)
        } else {
            (rows, cols)
        };
        let mut columns: Vec<Vec<f64>> = (0..n)
            .map(|_| (0..m).map(|_| self.standard_normal()).collect())
            .collect();
        // Modified Gram–Schmidt: Q with a positive R diagonal, which is what torch's
        // `q *= sign(diag(r))` normalises to.
        for j in 0..n {
            let (done, rest) = columns.split_at_mut(j);
            let v = &mut rest[0];
            for q in done.iter() {
                let dot: f64 = q.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(q).for_each(|(x, qi)| *x -= dot * qi);
            }
            let norm = v
                .iter()
                .map(|x| x * x)
                .sum::<f64>()
                .sqrt()
                .max(f64::MIN_POSITIVE);
            v.iter_mut().for_each(|x| *x /= norm);
        }
        let mut out = vec![0f32; rows * cols];
        for r in 0..rows {
            for c in 0..cols {
                let value = if transposed {
                    columns[r][c]
                } else {
                    columns[c][r]
                };
                out[r * cols + c] = (value * self.gain) as f32;
            }
        }
        out
    }

    fn param4(&mut self, shape: [usize; 4], device: &Device) -> Param<Tensor<4>> {
        let values = self.weight_values(shape);
        Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
    }

    /// A 2-D convolution `cin → cout`, square kernel, symmetric zero padding `padding`,
    /// weights from this source and a zero bias when `bias` is set.
    #[allow(clippy::too_many_arguments)]
    pub fn conv2d(
        &mut self,
        cin: usize,
        cout: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        bias: bool,
        device: &Device,
    ) -> Conv2d {
        let mut conv = Conv2dConfig::new([cin, cout], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(
                padding, padding, padding, padding,
            ))
            .with_bias(bias)
            .init(device);
        conv.weight = self.param4([cout, cin, kernel, kernel], device);
        conv.bias = bias.then(|| Param::from_tensor(Tensor::zeros([cout], device)));
        conv
    }

    /// A 2-D transposed convolution `cin → cout` (PyTorch `ConvTranspose2d` semantics and
    /// weight layout `[cin, cout, k, k]`).
    #[allow(clippy::too_many_arguments)]
    pub fn conv_transpose2d(
        &mut self,
        cin: usize,
        cout: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        output_padding: usize,
        bias: bool,
        device: &Device,
    ) -> ConvTranspose2d {
        let mut conv = ConvTranspose2dConfig::new([cin, cout], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding([padding, padding])
            .with_padding_out([output_padding, output_padding])
            .with_bias(bias)
            .init(device);
        conv.weight = self.param4([cin, cout, kernel, kernel], device);
        conv.bias = bias.then(|| Param::from_tensor(Tensor::zeros([cout], device)));
        conv
    }

    /// A fully connected layer `d_in → d_out` with a zero bias, its weight drawn as the official
    /// `init_weights` draws an `nn.Linear`'s (PyTorch layout `[d_out, d_in]`; Burn keeps the
    /// transpose, `[d_in, d_out]`).
    pub fn linear(&mut self, d_in: usize, d_out: usize, device: &Device) -> Linear {
        let mut linear = LinearConfig::new(d_in, d_out).init(device);
        let values = self.weight_values([d_out, d_in, 1, 1]);
        let weight: Tensor<2> = Tensor::from_data(TensorData::new(values, [d_out, d_in]), device);
        linear.weight = Param::from_tensor(weight.transpose());
        linear.bias = Some(Param::from_tensor(Tensor::zeros([d_out], device)));
        linear
    }

    /// A BatchNorm weight (gamma): N(1, gain), as the official `init_weights`.
    pub fn batch_norm_gamma(&mut self, channels: usize, device: &Device) -> Param<Tensor<1>> {
        let values = self.normal_vec(channels, 1.0, self.gain);
        Param::from_tensor(Tensor::from_data(
            TensorData::new(values, [channels]),
            device,
        ))
    }
}

/// A seed drawn from the operating system, for networks built without an explicit seed.
pub(crate) fn random_seed() -> u64 {
    rand::rng().random()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_std(values: &[f32]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = values
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        (mean, var.sqrt())
    }

    #[test]
    fn normal_has_the_requested_moments() {
        let values = WeightInit::new(InitType::Normal, 0.02, 1).weight_values([64, 64, 7, 7]);
        let (mean, std) = mean_std(&values);
        assert!(mean.abs() < 0.02 * 0.05, "mean {mean}");
        assert!((std / 0.02 - 1.0).abs() < 0.05, "std {std}");
    }

    #[test]
    fn xavier_and_kaiming_follow_torch_fans() {
        let shape = [128, 64, 3, 3];
        let values = WeightInit::new(InitType::Xavier, 0.02, 2).weight_values(shape);
        let expected = 0.02 * (2.0f64 / ((64 + 128) * 9) as f64).sqrt();
        let (_, std) = mean_std(&values);
        assert!(
            (std / expected - 1.0).abs() < 0.05,
            "xavier std {std} vs {expected}"
        );

        let values = WeightInit::new(InitType::Kaiming, 0.02, 3).weight_values(shape);
        let expected = (2.0f64 / (64.0 * 9.0)).sqrt();
        let (_, std) = mean_std(&values);
        assert!(
            (std / expected - 1.0).abs() < 0.05,
            "kaiming std {std} vs {expected}"
        );
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn orthogonal_rows_are_orthonormal_times_gain() {
        for (rows, cols) in [(8usize, 27usize), (27, 8)] {
            let gain = 0.5;
            let values = WeightInit::new(InitType::Orthogonal, gain, 4).orthogonal(rows, cols);
            // The smaller dimension's vectors are orthonormal (times gain).
            let (a, b, get): (usize, usize, Box<dyn Fn(usize, usize) -> f64>) = if rows <= cols {
                (rows, cols, Box::new(|i, k| values[i * cols + k] as f64))
            } else {
                (cols, rows, Box::new(|i, k| values[k * cols + i] as f64))
            };
            for i in 0..a {
                for j in 0..a {
                    let dot: f64 = (0..b).map(|k| get(i, k) * get(j, k)).sum();
                    let expected = if i == j { gain * gain } else { 0.0 };
                    assert!((dot - expected).abs() < 1e-5, "({i},{j}) {dot}");
                }
            }
        }
    }

    #[test]
    fn same_seed_same_weights() {
        let a = WeightInit::new(InitType::Normal, 0.02, 7).weight_values([4, 3, 3, 3]);
        let b = WeightInit::new(InitType::Normal, 0.02, 7).weight_values([4, 3, 3, 3]);
        let c = WeightInit::new(InitType::Normal, 0.02, 8).weight_values([4, 3, 3, 3]);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn parse_names() {
        assert_eq!("xavier".parse::<InitType>().unwrap(), InitType::Xavier);
        let err = "uniform".parse::<InitType>().unwrap_err().to_string();
        assert!(
            err.contains("init_type") && err.contains("uniform"),
            "{err}"
        );
    }
}
