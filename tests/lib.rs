//! End-to-end tests of `iamd` through the official AWS SDK for Rust; the
//! tests live in `sdk.rs`. This library is empty.
