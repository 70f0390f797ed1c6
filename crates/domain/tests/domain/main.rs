//! Integration tests of the IAM domain, one binary with a module per topic:
//! table tests calling `decide` directly, event storage and upcasting, and
//! the property test over random command sequences.

mod common;
mod events;
mod evolve;
mod property;
mod table;
