//! What every protocol of the edge shares: a request's parameters as one
//! tree (from a Query form or a JSON body) and the one error type, rendered
//! by each protocol (`ApiError::to_xml`, `ApiError::to_json`).

mod error;
mod params;

pub use error::{status_of, ApiError};
pub use params::{Params, MAX_JSON_VALUES};
