//! iamd's evaluator against cedar-policy on equivalent policy sets.
//!
//! `cargo bench -p iam-bench` (results in `target/criterion`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use iam_bench::Fixture;

fn bench(c: &mut Criterion) {
    for n in [10usize, 100, 1_000] {
        let f = Fixture::new(n);
        assert_eq!(f.iamd_decide(true), "Allow");
        assert_eq!(f.iamd_decide(false), "ExplicitDeny");
        assert_eq!(f.cedar_decide(true), "Allow");
        assert_eq!(f.cedar_decide(false), "Deny");
        let mut group = c.benchmark_group(format!("n{n}"));
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
