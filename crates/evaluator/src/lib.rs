//! Policy evaluation with AWS IAM's semantics (pure; no I/O).
