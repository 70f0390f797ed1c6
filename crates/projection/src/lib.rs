//! Views of IAM state built from the event log.
