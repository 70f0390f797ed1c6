//! The AWS Query protocol: form-encoded requests (`Action=...&Version=...`)
//! and XML responses in AWS's envelope.

mod error;
mod params;
mod xml;

pub use error::ApiError;
pub use params::Params;
pub use xml::{iso8601, Xml};

/// IAM's XML namespace.
pub const IAM_NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// STS's XML namespace.
pub const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
