//! The errors of Signature V4 verification, each one of AWS's error codes.

/// AWS's message for a signature that does not match.
pub const SIGNATURE_DOES_NOT_MATCH_MESSAGE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Why a request was not authenticated. Every variant maps to one AWS error
/// code ([`SigV4Error::code`]) and HTTP status ([`SigV4Error::http_status`]);
/// [`Display`](std::fmt::Display) gives the message to put in the
/// `<Message>` element of the error response.
///
/// Messages may quote parts of the request (dates, scope parts, header
/// names); the server must XML-escape them like any other text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor presigned query parameters.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    /// The `Authorization` header or the presigned query parameters are
    /// malformed or incomplete.
    #[error("{0}")]
    IncompleteSignature(String),
    /// The access key id is not known (the lookup returned `None`).
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId,
    /// The signature is wrong, or the credential scope names the wrong
    /// service, a bad terminator or a date other than the request's.
    #[error("{0}")]
    SignatureDoesNotMatch(String),
    /// The request is outside the allowed clock skew, or a presigned request
    /// has expired.
    #[error("{0}")]
    RequestExpired(String),
}

impl SigV4Error {
    /// AWS's error code, for the `<Code>` element.
    pub fn code(&self) -> &'static str {
        match self {
            SigV4Error::MissingAuthenticationToken => "MissingAuthenticationToken",
            SigV4Error::IncompleteSignature(_) => "IncompleteSignature",
            SigV4Error::InvalidClientTokenId => "InvalidClientTokenId",
            SigV4Error::SignatureDoesNotMatch(_) => "SignatureDoesNotMatch",
            SigV4Error::RequestExpired(_) => "RequestExpired",
        }
    }

    /// The HTTP status AWS answers with (from AWS's "Common Errors" lists
    /// for Query-protocol services).
    pub fn http_status(&self) -> u16 {
        match self {
            SigV4Error::MissingAuthenticationToken => 403,
            SigV4Error::IncompleteSignature(_) => 400,
            SigV4Error::InvalidClientTokenId => 403,
            SigV4Error::SignatureDoesNotMatch(_) => 403,
            SigV4Error::RequestExpired(_) => 400,
        }
    }

    /// The message (same as `to_string()`).
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// A [`SigV4Error::SignatureDoesNotMatch`] with AWS's standard message.
    pub fn signature_does_not_match() -> Self {
        SigV4Error::SignatureDoesNotMatch(SIGNATURE_DOES_NOT_MATCH_MESSAGE.to_owned())
    }

    pub(crate) fn incomplete(message: impl Into<String>) -> Self {
        SigV4Error::IncompleteSignature(message.into())
    }
}
