//! AWS IAM's and STS's wire shapes, as Rust types generated from AWS's own
//! service models (botocore's `service-2.json`), with the codecs that carry
//! them: the Query protocol's form parameters in, XML out, and a JSON
//! encoding of the same shapes.
//!
//! The generated modules ([`iam`], [`sts`]) are written by
//! `cargo xtask codegen` and committed; `cargo xtask codegen --check` proves
//! they are what the pinned model produces. Everything hand-written lives
//! beside them: the input tree both protocols decode into ([`node`]), the
//! decoder with AWS's validation wording ([`decode`]), the writers
//! ([`encode`]) and what an operation is ([`operation`]).
//!
//! This crate knows nothing of iamd's domain: it is the edge's vocabulary.

pub mod decode;
pub mod encode;
pub mod node;
pub mod operation;

#[allow(clippy::all, non_camel_case_types, missing_docs, unused_imports)]
#[rustfmt::skip]
#[path = "generated/iam.rs"]
pub mod iam;

#[allow(clippy::all, non_camel_case_types, missing_docs, unused_imports)]
#[rustfmt::skip]
#[path = "generated/sts.rs"]
pub mod sts;

/// iamd's own decision and audit API (`/v1`), generated from its model in
/// `model/iamd.json` like AWS's services from theirs.
#[allow(clippy::all, non_camel_case_types, missing_docs, unused_imports)]
#[rustfmt::skip]
#[path = "generated/iamd.rs"]
pub mod iamd;

/// The OpenAPI 3.1 document of iamd's own API, generated from the same
/// model as [`iamd`].
pub const IAMD_OPENAPI: &str = include_str!("generated/iamd.openapi.json");

pub use decode::{Constraint, Decode, Path, Pattern, Reader, Violations};
pub use encode::{Encode, JsonWriter, Kind, Writer, XmlWriter};
pub use node::Node;
pub use operation::{ErrorSpec, Operation, OperationSpec, Service};

/// A value the model marks sensitive (a password, a secret key): its
/// `Debug` never shows it, and validation errors never echo it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A JSON value of any shape (the model's `document` type): a condition
/// context value (a string or a list), a policy, a point in time given as a
/// position or a timestamp.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document(pub serde_json::Value);

/// A map shape, in the order it was read or is to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Map<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for Map<K, V> {
    fn default() -> Self {
        Map(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_of_the_models_compiles_or_is_marked_unchecked() {
        let mut unchecked = 0;
        for p in iam::PATTERNS.iter().chain(sts::PATTERNS) {
            if p.is_checked() {
                assert!(p.regex().is_some(), "pattern {:?} does not compile", p);
            } else {
                unchecked += 1;
            }
        }
        // One pattern (a delegation's bucket-like name) uses a lookahead.
        assert!(unchecked <= 1, "{unchecked} patterns are unchecked");
    }

    #[test]
    fn each_operation_type_points_at_its_own_table_entry() {
        use operation::Operation;
        assert_eq!(<iam::ops::CreateUser as Operation>::SPEC.name, "CreateUser");
        assert_eq!(
            <iam::ops::CreateUser as Operation>::SPEC.result,
            Some("CreateUserResult")
        );
        assert_eq!(
            <sts::ops::GetCallerIdentity as Operation>::SPEC.service,
            Service::Sts
        );
        for service in [Service::Iam, Service::Sts] {
            for op in service.operations() {
                assert_eq!(op.service, service);
                for code in op.errors {
                    assert!(
                        service.errors().iter().any(|e| e.code == *code),
                        "{}: {code}",
                        op.name
                    );
                }
            }
        }
        assert_eq!(Service::Iam.operations().len(), 181);
        for service in [Service::Iam, Service::Sts] {
            let ops = service.operations();
            assert!(
                ops.windows(2).all(|w| w[0].name < w[1].name),
                "sorted by name"
            );
            for op in ops {
                assert_eq!(service.operation(op.name).map(|o| o.name), Some(op.name));
            }
        }
        assert_eq!(Service::Sts.operations().len(), 12);
    }

    #[test]
    fn a_generated_input_decodes_from_query_and_json_alike() {
        let query = Node::from_query([
            ("UserName", "alice"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ]);
        let json = Node::from_json(
            &serde_json::json!({"UserName": "alice", "Tags": [{"Key": "team", "Value": "blue"}]}),
        );
        let a: iam::CreateUserRequest = decode::decode_input(&query).unwrap();
        let b: iam::CreateUserRequest = decode::decode_input(&json).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.tags.as_ref().map(Vec::len), Some(1));

        let bad = Node::from_query([("UserName", "a b"), ("Path", "nope")]);
        let err = decode::decode_input::<iam::CreateUserRequest>(&bad).unwrap_err();
        assert_eq!(
            err.message(),
            "2 validation errors detected: Value 'nope' at 'path' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F); \
             Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy regular \
             expression pattern: [\\w+=,.@-]+"
        );
    }

    #[test]
    fn an_empty_output_still_writes_its_result_element() {
        let spec = <iam::ops::UpdateRole as Operation>::SPEC;
        let xml = operation::xml_response(spec, "req-1", &iam::UpdateRoleResponse::default());
        assert!(
            xml.contains("<UpdateRoleResult></UpdateRoleResult>"),
            "{xml}"
        );
        let spec = <iam::ops::DeleteUser as Operation>::SPEC;
        let xml = operation::xml_response(spec, "req-1", &());
        assert!(!xml.contains("Result"), "{xml}");
    }
}
