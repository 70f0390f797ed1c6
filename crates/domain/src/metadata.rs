//! Event metadata: who did it, with which credential, from where, and as part
//! of which request. The shell attaches one [`EventMetadata`] to every event
//! it appends; `decide` never sees it. Field names are stable JSON.

use serde::{Deserialize, Serialize};

/// The principal that caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The caller's ARN (`arn:aws:iam::...:user/...`, `...:root`, an STS
    /// assumed-role ARN), or a system name such as `iamd:bootstrap`.
    pub principal_arn: String,
    /// The caller's unique id (`AIDA...`, `AROA...:session`, account id for root).
    #[serde(default)]
    pub principal_id: Option<String>,
    /// The access key id the request was signed with (`AKIA...`/`ASIA...`).
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// The role session name, for assumed-role callers.
    #[serde(default)]
    pub session_name: Option<String>,
}

/// Everything recorded beside an event besides the event itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    /// Who.
    pub actor: Actor,
    /// The request id returned to the caller.
    pub request_id: String,
    /// The caller's source IP address, as text.
    #[serde(default)]
    pub source_ip: Option<String>,
    /// The caller's User-Agent.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Ties together everything done for one logical operation.
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// The id of the event or request that directly caused this one.
    #[serde(default)]
    pub causation_id: Option<String>,
    /// The action of the request (`iam:CreateUser`), for the audit trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The resource the request was authorized on (an ARN), for the trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl EventMetadata {
    /// Metadata of what iamd does on its own (`iamd:bootstrap` creating the
    /// account, `iamd:cli` for the audit commands, recording a key's use):
    /// the principal it acts as or for, no request details.
    pub fn system(principal_arn: &str, request_id: String) -> EventMetadata {
        EventMetadata {
            actor: Actor {
                principal_arn: principal_arn.to_owned(),
                principal_id: None,
                access_key_id: None,
                session_name: None,
            },
            request_id,
            source_ip: None,
            user_agent: None,
            correlation_id: None,
            causation_id: None,
            action: None,
            target: None,
        }
    }

    /// Metadata as JSON for the store.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("metadata always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_names_and_round_trip() {
        let m = EventMetadata {
            actor: Actor {
                principal_arn: "arn:aws:iam::123456789012:user/alice".into(),
                principal_id: Some("AIDACKCEVSQ6C2EXAMPLE".into()),
                access_key_id: Some("AKIAIOSFODNN7EXAMPLE".into()),
                session_name: None,
            },
            request_id: "req-1".into(),
            source_ip: Some("192.0.2.1".into()),
            user_agent: Some("aws-cli/2".into()),
            correlation_id: Some("c".into()),
            causation_id: None,
            action: None,
            target: None,
        };
        let j = m.to_json();
        assert_eq!(
            j["actor"]["principal_arn"],
            "arn:aws:iam::123456789012:user/alice"
        );
        assert_eq!(j["actor"]["access_key_id"], "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(j["request_id"], "req-1");
        assert_eq!(j["source_ip"], "192.0.2.1");
        assert_eq!(serde_json::from_value::<EventMetadata>(j).unwrap(), m);
        let minimal: EventMetadata = serde_json::from_str(
            r#"{"actor":{"principal_arn":"iamd:bootstrap"},"request_id":"r"}"#,
        )
        .unwrap();
        assert_eq!(minimal.source_ip, None);
    }
}
