//! iamd's evaluator against cedar-policy on equivalent policy sets.
//!
//! `cargo bench -p iam-bench` (results in `target/criterion`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use iam_bench::{Fixture, Shape};

fn bench(c: &mut Criterion) {
    for (shape, n) in [10usize, 100, 1_000]
        .into_iter()
        .flat_map(|n| [(Shape::Distinct, n), (Shape::Wildcard, n)])
    {
        let f = Fixture::with_shape(n, shape);
        assert_eq!(f.iamd_decide(true), "Allow");
        assert_eq!(f.iamd_decide(false), "ExplicitDeny");
        assert_eq!(f.cedar_decide(true), "Allow");
        assert_eq!(f.cedar_decide(false), "Deny");
        let name = match shape {
            Shape::Distinct => format!("n{n}"),
            Shape::Wildcard => format!("n{n}-wildcard"),
        };
        let mut group = c.benchmark_group(name);
        for (label, allowed) in [("allowed", true), ("denied", false)] {
            let mut buf = Vec::with_capacity(64);
            group.bench_with_input(BenchmarkId::new("iamd", label), &allowed, |b, &a| {
                b.iter(|| black_box(f.iamd(black_box(a), &mut buf)))
            });
            group.bench_with_input(BenchmarkId::new("cedar", label), &allowed, |b, &a| {
                b.iter(|| black_box(f.cedar(black_box(a))))
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40);
    targets = bench
}
criterion_main!(benches);
