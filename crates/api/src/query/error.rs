//! The one error type of the HTTP edge and its one mapping to AWS's error
//! codes, HTTP statuses and XML. Internals are logged, never returned.

use axum::http::StatusCode;
use iam_domain::DomainError;

use crate::sigv4::SigV4Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    /// `Sender` (the caller's fault) or `Receiver` (ours).
    pub kind: &'static str,
    pub code: String,
    pub message: String,
    /// For an `AccessDenied` of an authorization: the decision, the
    /// statements that decided it and the context, which the edge seals
    /// into the message (`sts:DecodeAuthorizationMessage` opens it).
    pub authorization: Option<Box<serde_json::Value>>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind: if status >= 500 { "Receiver" } else { "Sender" },
            code: code.to_owned(),
            message: message.into(),
            authorization: None,
        }
    }

    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "ValidationError", message)
    }

    /// AWS's answer to an operation name it does not know. The name and
    /// version are the caller's: they are echoed cut to 128 characters.
    pub fn invalid_action(action: &str, version: &str) -> ApiError {
        let cut = |s: &str| -> String {
            let mut out: String = s.chars().take(128).collect();
            if out.len() < s.len() {
                out.push('…');
            }
            out
        };
        ApiError::new(
            400,
            "InvalidAction",
            format!(
                "Could not find operation {} for version {}",
                cut(action),
                cut(version)
            ),
        )
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            500,
            "ServiceFailure",
            "An internal error occurred; it has been logged.",
        )
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// `<ErrorResponse>` as AWS's Query protocol writes it.
    pub fn to_xml(&self, namespace: &str, request_id: &str) -> String {
        let mut x = iam_wire::XmlWriter::new();
        x.open_ns("ErrorResponse", namespace);
        x.open("Error");
        x.elem("Type", self.kind);
        x.elem("Code", &self.code);
        x.elem("Message", &self.message);
        x.close("Error");
        x.elem("RequestId", request_id);
        x.close("ErrorResponse");
        x.finish()
    }
}

impl ApiError {
    /// `{"error": {"code": …, "message": …}}`, the JSON encoding's error.
    pub fn to_json(&self) -> String {
        serde_json::json!({"error": {"code": self.code, "message": self.message}}).to_string()
    }
}

/// The HTTP status of an error code: the one AWS's models declare for it,
/// else the one of the common errors every AWS Query API shares (403 for
/// `AccessDenied`, 400 for `ValidationError`, `InvalidAction`, …). This is
/// the one place a domain error gets a status.
pub fn status_of(code: &str) -> u16 {
    [iam_wire::Service::Iam, iam_wire::Service::Sts]
        .iter()
        .flat_map(|s| s.errors())
        .find(|e| e.code == code)
        .map(|e| e.status)
        .unwrap_or(match code {
            "AccessDenied" => 403,
            _ => 400,
        })
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        if let Some(detail) = e.detail() {
            tracing::info!(code = e.code(), detail, "request refused");
        }
        ApiError::new(status_of(e.code()), e.code(), e.message())
    }
}

impl From<SigV4Error> for ApiError {
    fn from(e: SigV4Error) -> Self {
        ApiError::new(e.http_status(), e.code(), e.message())
    }
}

/// A log that cannot be read is our fault, never the caller's: logged,
/// answered as an internal error.
impl From<iam_event_store::StoreError> for ApiError {
    fn from(e: iam_event_store::StoreError) -> Self {
        tracing::error!(error = %e, "reading the log");
        ApiError::internal()
    }
}

impl From<iam_projection::ProjectionError> for ApiError {
    fn from(e: iam_projection::ProjectionError) -> Self {
        match e {
            iam_projection::ProjectionError::Domain(d) => d.into(),
            iam_projection::ProjectionError::Contention { .. } => ApiError::new(
                409,
                "ConcurrentModification",
                "The request was rejected because multiple requests to change this object were submitted simultaneously. Wait a few minutes and submit your request again.",
            ),
            iam_projection::ProjectionError::NotCaughtUp { wanted, reached } => ApiError::new(
                503,
                "ServiceUnavailable",
                format!("This node has not yet reached log position {wanted} (it is at {reached}); retry."),
            ),
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::internal()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal the domain makes (an MFA code another node spent first)
    /// is answered as AWS answers any AccessDenied: 403, whichever node's
    /// view decided it.
    #[test]
    fn a_domain_access_denied_is_403() {
        let e = ApiError::from(DomainError::AccessDenied("spent".into()));
        assert_eq!((e.status, e.code.as_str()), (403, "AccessDenied"));
        assert_eq!(status_of("ValidationError"), 400);
        assert_eq!(status_of("NoSuchEntity"), 404);
    }
}
