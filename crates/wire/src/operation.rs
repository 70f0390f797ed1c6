//! What an operation is: its name, service, shapes, result element and
//! declared errors, as the model states them. The edge's registry pairs
//! each with a handler.

use crate::decode::Decode;
use crate::encode::{Encode, XmlWriter};

/// The AWS service an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Iam,
    Sts,
    /// iamd's own `/v1` API.
    Iamd,
}

impl Service {
    /// The name a request's credential scope and the IAM action use.
    pub fn name(self) -> &'static str {
        match self {
            Service::Iam => "iam",
            Service::Sts => "sts",
            Service::Iamd => "iamd",
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            Service::Iam => crate::iam::VERSION,
            Service::Sts => crate::sts::VERSION,
            Service::Iamd => crate::iamd::VERSION,
        }
    }

    pub fn namespace(self) -> &'static str {
        match self {
            Service::Iam => crate::iam::XML_NAMESPACE,
            Service::Sts => crate::sts::XML_NAMESPACE,
            Service::Iamd => crate::iamd::XML_NAMESPACE,
        }
    }

    /// Every operation of the service's model.
    pub fn operations(self) -> &'static [OperationSpec] {
        match self {
            Service::Iam => crate::iam::OPERATIONS,
            Service::Sts => crate::sts::OPERATIONS,
            Service::Iamd => crate::iamd::OPERATIONS,
        }
    }

    /// The model's errors: code, HTTP status, whether the caller is at fault.
    pub fn errors(self) -> &'static [ErrorSpec] {
        match self {
            Service::Iam => crate::iam::ERRORS,
            Service::Sts => crate::sts::ERRORS,
            Service::Iamd => crate::iamd::ERRORS,
        }
    }

    /// The model's description of the operation called `name` (the
    /// generated table is sorted by name).
    pub fn operation(self, name: &str) -> Option<&'static OperationSpec> {
        let ops = self.operations();
        ops.binary_search_by(|o| o.name.cmp(name))
            .ok()
            .map(|i| &ops[i])
    }
}

/// An operation as data, for tables and tests.
#[derive(Debug)]
pub struct OperationSpec {
    pub name: &'static str,
    pub service: Service,
    /// The HTTP method and path of a REST operation (`GET`,
    /// `/v1/events/{position}`); `POST` and `/` for the Query protocol.
    pub method: &'static str,
    pub path: &'static str,
    /// The element wrapping the output in a Query response
    /// (`CreateUserResult`), if the operation has an output.
    pub result: Option<&'static str>,
    /// The error codes the model declares for it.
    pub errors: &'static [&'static str],
}

/// An error the model defines.
#[derive(Debug)]
pub struct ErrorSpec {
    pub code: &'static str,
    pub status: u16,
    pub sender_fault: bool,
}

/// An operation as a type: the registry's handlers are typed by it.
pub trait Operation: 'static {
    type Input: Decode + Send + 'static;
    type Output: Encode + Send + 'static;
    const SPEC: &'static OperationSpec;
}

/// A Query response: `<OpResponse xmlns=…><OpResult>…</OpResult>
/// <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></OpResponse>`.
/// An operation with an output always writes its result element, even
/// empty (`<UpdateRoleResult/>` is what SDKs expect).
pub fn xml_response<T: Encode + ?Sized>(
    spec: &OperationSpec,
    request_id: &str,
    output: &T,
) -> String {
    let response = format!("{}Response", spec.name);
    let mut x = XmlWriter::new();
    x.open_ns(&response, spec.service.namespace());
    if let Some(result) = spec.result {
        x.open(result);
        output.encode(&mut x);
        x.close(result);
    }
    x.open("ResponseMetadata");
    x.elem("RequestId", request_id);
    x.close("ResponseMetadata");
    x.close(&response);
    x.finish()
}

/// A JSON response: the output's members as an object (`{}` for none).
pub fn json_response<T: Encode + ?Sized>(output: &T) -> String {
    let mut j = crate::encode::JsonWriter::new();
    output.encode(&mut j);
    j.finish()
}
