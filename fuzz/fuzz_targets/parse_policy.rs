//! Fuzz the policy parser with the property in `../check_policy.rs`.
//! The committed corpus (`fuzz/corpus/parse_policy/`) also runs as an
//! ordinary test: `crates/evaluator/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../check_policy.rs");

fuzz_target!(|data: &[u8]| check_policy_input(data));
