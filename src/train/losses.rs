//! The losses of a training step as data: named terms in the official order
//! ([`LossTerm`]), and their values for one step ([`StepLosses`]), which the loss log, the
//! plot, the progress display and the averages iterate over.

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
    /// The total generator loss (sum of the six generator terms).
    G,
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
        }
    }
}

/// The nine losses of one training step, as the official `get_current_losses()` reports
/// them (weighted: the cycle and identity terms include their lambdas). The fields are the
/// terms' values; [`get`](Self::get), [`terms`](Self::terms) and [`mean`](Self::mean) treat
/// them as data.
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

    /// The losses with the given values (terms not given are 0).
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

    /// Every term with its value, in the official display order ([`LossTerm::ALL`]).
    pub fn terms(&self) -> [(LossTerm, f32); 9] {
        LossTerm::ALL.map(|term| (term, self.get(term)))
    }

    /// `(name, value)` pairs with the official names (`D_A`, `G_A`, `cycle_A`, ...), in the
    /// official display order.
    pub fn named(&self) -> [(&'static str, f32); 9] {
        self.terms().map(|(term, value)| (term.name(), value))
    }

    /// Whether every loss is a finite number.
    pub fn is_finite(&self) -> bool {
        self.terms().iter().all(|(_, value)| value.is_finite())
    }

    /// The mean of every term over `losses` (all zero for none).
    pub fn mean(losses: &[StepLosses]) -> StepLosses {
        let count = losses.len().max(1) as f32;
        StepLosses::from_terms(LossTerm::ALL.map(|term| {
            let sum = losses.iter().map(|l| l.get(term)).sum::<f32>();
            (term, sum / count)
        }))
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
