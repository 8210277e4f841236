//! ImagePool: the official per-image semantics.

mod common;

use cyclegan_burn::prelude::*;

/// A batch of `n` images whose pixels all equal their id.
fn images(ids: &[f32], device: &Device) -> Tensor<4> {
    let values: Vec<f32> = ids
        .iter()
        .flat_map(|&id| std::iter::repeat_n(id, 3 * 2 * 2))
        .collect();
    Tensor::from_data(TensorData::new(values, [ids.len(), 3, 2, 2]), device)
}

fn ids(t: Tensor<4>) -> Vec<f32> {
    let n = t.dims()[0];
    let v = common::values(t);
    (0..n).map(|i| v[i * 12]).collect()
}

#[test]
fn fill_phase_returns_the_inputs() {
    let device = common::device();
    let mut pool = ImagePool::new(5, 0);
    assert_eq!(
        ids(pool.query(images(&[1.0, 2.0, 3.0], &device))),
        vec![1.0, 2.0, 3.0]
    );
    assert_eq!(
        ids(pool.query(images(&[4.0, 5.0], &device))),
        vec![4.0, 5.0]
    );
    assert_eq!(pool.len(), 5);
}

#[test]
fn after_filling_half_of_the_returns_are_swapped() {
    let device = common::device();
    let size = 50;
    let mut pool = ImagePool::new(size, 7);
    let fill: Vec<f32> = (0..size).map(|i| i as f32).collect();
    pool.query(images(&fill, &device));
    let queries = 10_000;
    let mut swapped = 0;
    let mut seen_ids = std::collections::HashSet::new();
    for q in 0..queries {
        let id = (size + q) as f32;
        let out = ids(pool.query(images(&[id], &device)))[0];
        if out != id {
            swapped += 1;
            assert!(out < id, "a swapped image comes from the past");
            seen_ids.insert(out as i64);
        }
    }
    let share = swapped as f64 / queries as f64;
    assert!((share - 0.5).abs() <= 0.02, "swapped share {share}");
    assert!(
        seen_ids.len() > 1000,
        "stored images are returned from random slots"
    );
    assert_eq!(pool.len(), size);
}

#[test]
fn a_batch_makes_one_query_per_image() {
    let device = common::device();
    let mut pool = ImagePool::new(2, 1);
    pool.query(images(&[1.0, 2.0], &device));
    let mut swapped = 0;
    for round in 0..200 {
        let batch: Vec<f32> = (0..4).map(|i| (100 + round * 4 + i) as f32).collect();
        let out = ids(pool.query(images(&batch, &device)));
        assert_eq!(out.len(), 4);
        swapped += out.iter().zip(&batch).filter(|(o, b)| o != b).count();
    }
    let share = swapped as f64 / 800.0;
    assert!((share - 0.5).abs() < 0.06, "{share}");
}

#[test]
fn size_zero_passes_through() {
    let device = common::device();
    let mut pool = ImagePool::new(0, 0);
    for _ in 0..3 {
        assert_eq!(
            ids(pool.query(images(&[7.0, 8.0], &device))),
            vec![7.0, 8.0]
        );
    }
    assert!(pool.is_empty());
}

#[test]
fn same_seed_same_choices() {
    let device = common::device();
    let run = |seed| {
        let mut pool = ImagePool::new(3, seed);
        (0..50)
            .flat_map(|i| ids(pool.query(images(&[i as f32], &device))))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}
