//! The losses of a training step as data: named terms in the official order
//! ([`LossTerm`]), the set a model reports ([`LossSet`]: CycleGAN's or CUT's), and their
//! values for one step ([`StepLosses`]), which the loss log, the plot, the progress display
//! and the averages iterate over.

use serde::{Deserialize, Serialize};

/// One term of the objective, as the official `get_current_losses()` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LossTerm {
    /// Loss of D_A: 0.5 · (real B + pooled fake B).
    DA,
    /// Adversarial loss of G_A (D_A judging G_A(A)), times `lambda_gan_a`.
    GA,
    /// A → B → A cycle loss × lambda_A.
    CycleA,
    /// Identity loss of G_A × lambda_B × lambda_identity (0 when not computed).
    IdtA,
    /// Loss of D_B: 0.5 · (real A + pooled fake A).
    DB,
    /// Adversarial loss of G_B (D_B judging G_B(B)), times `lambda_gan_b`.
    GB,
    /// B → A → B cycle loss × lambda_B.
    CycleB,
    /// Identity loss of G_B × lambda_A × lambda_identity (0 when not computed).
    IdtB,
    /// The total generator loss (CycleGAN: the sum of the six generator terms; CUT:
    /// `G_GAN` plus the NCE terms).
    G,
    /// CUT: D judging G(X) as real, times `lambda_GAN`.
    GGan,
    /// CUT: D's loss on real B images.
    DReal,
    /// CUT: D's loss on G(X), detached.
    DFake,
    /// CUT: NCE(G(X), X), times `lambda_NCE`.
    Nce,
    /// CUT: the identity term NCE(G(Y), Y), times `lambda_NCE` (with `nce_idt`).
    NceY,
}

impl LossTerm {
    /// Every term, in the official display order (`D_A G_A cycle_A idt_A D_B G_B cycle_B
    /// idt_B`, then the total `G`).
    pub const ALL: [LossTerm; 9] = [
        LossTerm::DA,
        LossTerm::GA,
        LossTerm::CycleA,
        LossTerm::IdtA,
        LossTerm::DB,
        LossTerm::GB,
        LossTerm::CycleB,
        LossTerm::IdtB,
        LossTerm::G,
    ];

    /// The terms of the generator objective, whose sum is [`LossTerm::G`].
    pub const GENERATOR: [LossTerm; 6] = [
        LossTerm::GA,
        LossTerm::GB,
        LossTerm::CycleA,
        LossTerm::CycleB,
        LossTerm::IdtA,
        LossTerm::IdtB,
    ];

    /// The terms of the discriminator objective.
    pub const DISCRIMINATOR: [LossTerm; 2] = [LossTerm::DA, LossTerm::DB];

    /// CUT's terms with `nce_idt`, in the official order (`G_GAN D_real D_fake G NCE NCE_Y`).
    pub const CUT: [LossTerm; 6] = [
        LossTerm::GGan,
        LossTerm::DReal,
        LossTerm::DFake,
        LossTerm::G,
        LossTerm::Nce,
        LossTerm::NceY,
    ];

    /// The official name (`D_A`, `G_A`, `cycle_A`, `idt_A`, ..., `G`).
    pub fn name(self) -> &'static str {
        match self {
            LossTerm::DA => "D_A",
            LossTerm::GA => "G_A",
            LossTerm::CycleA => "cycle_A",
            LossTerm::IdtA => "idt_A",
            LossTerm::DB => "D_B",
            LossTerm::GB => "G_B",
            LossTerm::CycleB => "cycle_B",
            LossTerm::IdtB => "idt_B",
            LossTerm::G => "G",
            LossTerm::GGan => "G_GAN",
            LossTerm::DReal => "D_real",
            LossTerm::DFake => "D_fake",
            LossTerm::Nce => "NCE",
            LossTerm::NceY => "NCE_Y",
        }
    }
}

/// Which terms a model reports (the official `loss_names`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LossSet {
    /// CycleGAN's nine ([`LossTerm::ALL`]).
    #[default]
    CycleGan,
    /// CUT's without the identity term (FastCUT): `G_GAN D_real D_fake G NCE`.
    Cut,
    /// CUT's with `nce_idt` ([`LossTerm::CUT`]).
    CutWithIdentity,
}

impl LossSet {
    /// The terms, in the official display order.
    pub fn terms(self) -> &'static [LossTerm] {
        match self {
            LossSet::CycleGan => &LossTerm::ALL,
            LossSet::Cut => &LossTerm::CUT[..5],
            LossSet::CutWithIdentity => &LossTerm::CUT,
        }
    }
}

/// The losses of one training step, as the official `get_current_losses()` reports them
/// (weighted: the cycle, identity and NCE terms include their lambdas): CycleGAN's nine or
/// CUT's five or six, as [`set`](Self::set) says. The fields are the terms' values (those of
/// the other model stay 0); [`get`](Self::get), [`terms`](Self::terms) and
/// [`mean`](Self::mean) treat them as data.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StepLosses {
    /// [`LossTerm::GA`].
    pub g_a: f32,
    /// [`LossTerm::GB`].
    pub g_b: f32,
    /// [`LossTerm::CycleA`].
    pub cycle_a: f32,
    /// [`LossTerm::CycleB`].
    pub cycle_b: f32,
    /// [`LossTerm::IdtA`].
    pub idt_a: f32,
    /// [`LossTerm::IdtB`].
    pub idt_b: f32,
    /// [`LossTerm::G`].
    pub g: f32,
    /// [`LossTerm::DA`].
    pub d_a: f32,
    /// [`LossTerm::DB`].
    pub d_b: f32,
    /// [`LossTerm::GGan`].
    #[serde(default)]
    pub g_gan: f32,
    /// [`LossTerm::DReal`].
    #[serde(default)]
    pub d_real: f32,
    /// [`LossTerm::DFake`].
    #[serde(default)]
    pub d_fake: f32,
    /// [`LossTerm::Nce`].
    #[serde(default)]
    pub nce: f32,
    /// [`LossTerm::NceY`].
    #[serde(default)]
    pub nce_y: f32,
    /// The terms reported.
    #[serde(default)]
    pub set: LossSet,
}

impl StepLosses {
    fn slot(&mut self, term: LossTerm) -> &mut f32 {
        match term {
            LossTerm::DA => &mut self.d_a,
            LossTerm::GA => &mut self.g_a,
            LossTerm::CycleA => &mut self.cycle_a,
            LossTerm::IdtA => &mut self.idt_a,
            LossTerm::DB => &mut self.d_b,
            LossTerm::GB => &mut self.g_b,
            LossTerm::CycleB => &mut self.cycle_b,
            LossTerm::IdtB => &mut self.idt_b,
            LossTerm::G => &mut self.g,
            LossTerm::GGan => &mut self.g_gan,
            LossTerm::DReal => &mut self.d_real,
            LossTerm::DFake => &mut self.d_fake,
            LossTerm::Nce => &mut self.nce,
            LossTerm::NceY => &mut self.nce_y,
        }
    }

    /// The value of `term`.
    pub fn get(&self, term: LossTerm) -> f32 {
        *self.clone().slot(term)
    }

    /// Sets the value of `term`.
    pub fn set(&mut self, term: LossTerm, value: f32) {
        *self.slot(term) = value;
    }

    /// The losses with the given values (terms not given are 0), CycleGAN's set.
    ///
    /// ```
    /// use cyclegan_burn::train::{LossTerm, StepLosses};
    /// let losses = StepLosses::from_terms([(LossTerm::GA, 1.5), (LossTerm::DA, 0.25)]);
    /// assert_eq!((losses.g_a, losses.d_a, losses.g), (1.5, 0.25, 0.0));
    /// ```
    pub fn from_terms(terms: impl IntoIterator<Item = (LossTerm, f32)>) -> Self {
        let mut losses = Self::default();
        for (term, value) in terms {
            losses.set(term, value);
        }
        losses
    }

    /// The same values, reported as the terms of `set`.
    pub fn with_set(mut self, set: LossSet) -> Self {
        self.set = set;
        self
    }

    /// Every term of the set with its value, in the official display order.
    pub fn terms(&self) -> Vec<(LossTerm, f32)> {
        self.set
            .terms()
            .iter()
            .map(|&term| (term, self.get(term)))
            .collect()
    }

    /// `(name, value)` pairs with the official names (`D_A`, `G_A`, `cycle_A`, ...; `G_GAN`,
    /// `D_real`, ...), in the official display order.
    pub fn named(&self) -> Vec<(&'static str, f32)> {
        self.terms()
            .into_iter()
            .map(|(term, value)| (term.name(), value))
            .collect()
    }

    /// Whether every loss is a finite number.
    pub fn is_finite(&self) -> bool {
        self.terms().iter().all(|(_, value)| value.is_finite())
    }

    /// The mean of every term over `losses`, in the set of the first (all zero for none).
    pub fn mean(losses: &[StepLosses]) -> StepLosses {
        let count = losses.len().max(1) as f32;
        let set = losses.first().map_or(LossSet::default(), |l| l.set);
        StepLosses::from_terms(set.terms().iter().map(|&term| {
            let sum = losses.iter().map(|l| l.get(term)).sum::<f32>();
            (term, sum / count)
        }))
        .with_set(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_round_trip_through_the_fields() {
        let values = LossTerm::ALL.map(|term| (term, term as u8 as f32 + 0.5));
        let losses = StepLosses::from_terms(values);
        assert_eq!(losses.terms(), values);
        let cut = StepLosses::from_terms([(LossTerm::Nce, 2.0), (LossTerm::NceY, 3.0)]);
        let names = |l: StepLosses| l.named().iter().map(|(n, _)| *n).collect::<Vec<_>>();
        assert_eq!(
            names(cut.with_set(LossSet::CutWithIdentity)),
            ["G_GAN", "D_real", "D_fake", "G", "NCE", "NCE_Y"]
        );
        assert_eq!(names(cut.with_set(LossSet::Cut)).len(), 5);
        let mean = StepLosses::mean(&[cut.with_set(LossSet::Cut); 2]);
        assert_eq!((mean.nce, mean.set), (2.0, LossSet::Cut));
        assert_eq!((losses.d_a, losses.g_a, losses.g), (0.5, 1.5, 8.5));
        let names: Vec<_> = losses.named().iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B", "G"
            ]
        );
    }

    #[test]
    fn mean_is_per_term() {
        let a = StepLosses::from_terms([(LossTerm::GA, 1.0), (LossTerm::DB, 4.0)]);
        let b = StepLosses::from_terms([(LossTerm::GA, 3.0)]);
        let mean = StepLosses::mean(&[a, b]);
        assert_eq!((mean.g_a, mean.d_b, mean.cycle_a), (2.0, 2.0, 0.0));
        assert_eq!(StepLosses::mean(&[]), StepLosses::default());
    }
}
