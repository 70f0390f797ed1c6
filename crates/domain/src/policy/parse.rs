//! The grammar: JSON tree to [`PolicyDocument`], with located errors.

use std::collections::HashSet;

use super::condition::{parse_bool, parse_date, parse_number, IpRange, ValueType};
use super::json::Json;
use super::{
    ConditionBlock, ConditionEntry, ConditionOperator, ConditionValue, Effect, PatternElement,
    PolicyDocument, PolicyError, PolicyKind, PrincipalElement, PrincipalType, Principals,
    Statement, StringList, Version,
};

fn err(path: &str, msg: impl Into<String>) -> PolicyError {
    PolicyError::new(path, msg)
}

/// Look at every key of an object once: reject duplicates and unknown names.
fn check_keys(
    path: &str,
    entries: &[(String, Json)],
    known: &[&str],
    what: &str,
) -> Result<(), PolicyError> {
    let mut seen = HashSet::new();
    for (k, _) in entries {
        if !seen.insert(k.as_str()) {
            return Err(err(path, format!("duplicate {what} \"{k}\"")));
        }
        if !known.contains(&k.as_str()) {
            return Err(err(path, format!("unknown {what} \"{k}\"")));
        }
    }
    Ok(())
}

fn get<'a>(entries: &'a [(String, Json)], key: &str) -> Option<&'a Json> {
    entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn join(path: &str, elem: &str) -> String {
    if path.is_empty() {
        elem.to_owned()
    } else {
        format!("{path}.{elem}")
    }
}

pub(super) fn parse_document(text: &str) -> Result<PolicyDocument, PolicyError> {
    let json: Json =
        serde_json::from_str(text).map_err(|e| err("", format!("invalid JSON: {e}")))?;
    let Json::Object(top) = json else {
        return Err(err(
            "",
            format!("policy must be a JSON object, not {}", json.type_name()),
        ));
    };
    check_keys("", &top, &["Version", "Id", "Statement"], "element")?;
    let version = match get(&top, "Version") {
        None => None,
        Some(Json::String(v)) if v == "2012-10-17" => Some(Version::V2012_10_17),
        Some(Json::String(v)) if v == "2008-10-17" => Some(Version::V2008_10_17),
        Some(Json::String(v)) => {
            return Err(err(
                "Version",
                format!("unsupported version \"{v}\"; use \"2012-10-17\""),
            ))
        }
        Some(other) => {
            return Err(err(
                "Version",
                format!("must be a string, not {}", other.type_name()),
            ))
        }
    };
    let id = match get(&top, "Id") {
        None => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(err(
                "Id",
                format!("must be a string, not {}", other.type_name()),
            ))
        }
    };
    let (raw_statements, statement_is_array): (Vec<&Json>, bool) = match get(&top, "Statement") {
        None => return Err(err("", "missing required element \"Statement\"")),
        Some(Json::Array(items)) => {
            if items.is_empty() {
                return Err(err("Statement", "must contain at least one statement"));
            }
            (items.iter().collect(), true)
        }
        Some(obj @ Json::Object(_)) => (vec![obj], false),
        Some(other) => {
            return Err(err(
                "Statement",
                format!(
                    "must be an object or an array of objects, not {}",
                    other.type_name()
                ),
            ))
        }
    };
    let mut statements = Vec::with_capacity(raw_statements.len());
    let mut sids = HashSet::new();
    for (i, raw) in raw_statements.into_iter().enumerate() {
        let path = format!("Statement[{i}]");
        let st = parse_statement(&path, raw, version == Some(Version::V2012_10_17))?;
        if let Some(sid) = &st.sid {
            if !sids.insert(sid.clone()) {
                return Err(err(&join(&path, "Sid"), format!("duplicate Sid \"{sid}\"")));
            }
        }
        statements.push(st);
    }
    Ok(PolicyDocument {
        version,
        id,
        statements,
        statement_is_array,
    })
}

const STATEMENT_ELEMENTS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn parse_statement(path: &str, raw: &Json, variables: bool) -> Result<Statement, PolicyError> {
    let Json::Object(entries) = raw else {
        return Err(err(
            path,
            format!("statement must be an object, not {}", raw.type_name()),
        ));
    };
    check_keys(path, entries, &STATEMENT_ELEMENTS, "element")?;
    let sid = match get(entries, "Sid") {
        None => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(err(
                &join(path, "Sid"),
                format!("must be a string, not {}", other.type_name()),
            ))
        }
    };
    let effect = match get(entries, "Effect") {
        None => return Err(err(path, "missing required element \"Effect\"")),
        Some(Json::String(s)) if s == "Allow" => Effect::Allow,
        Some(Json::String(s)) if s == "Deny" => Effect::Deny,
        Some(Json::String(s)) => {
            return Err(err(
                &join(path, "Effect"),
                format!("must be \"Allow\" or \"Deny\", not \"{s}\""),
            ))
        }
        Some(other) => {
            return Err(err(
                &join(path, "Effect"),
                format!("must be a string, not {}", other.type_name()),
            ))
        }
    };
    let principal = match pair(path, entries, "Principal", "NotPrincipal")? {
        None => None,
        Some((negated, p, v)) => Some(PrincipalElement {
            negated,
            principals: parse_principals(&p, v)?,
        }),
    };
    let action = match pair(path, entries, "Action", "NotAction")? {
        None => {
            return Err(err(
                path,
                "missing required element \"Action\" or \"NotAction\"",
            ))
        }
        Some((negated, p, v)) => {
            let patterns = string_list(&p, v)?;
            for (i, a) in patterns.values.iter().enumerate() {
                check_action(&p, i, a, patterns.is_array)?;
            }
            PatternElement { negated, patterns }
        }
    };
    let resource = match pair(path, entries, "Resource", "NotResource")? {
        None => None,
        Some((negated, p, v)) => {
            let patterns = string_list(&p, v)?;
            for (i, r) in patterns.values.iter().enumerate() {
                if r != "*" && !r.starts_with("arn:") {
                    let at = if patterns.is_array {
                        format!("{p}[{i}]")
                    } else {
                        p.clone()
                    };
                    return Err(err(
                        &at,
                        format!("resource \"{r}\" must be \"*\" or an ARN"),
                    ));
                }
            }
            Some(PatternElement { negated, patterns })
        }
    };
    let condition = match get(entries, "Condition") {
        None => Vec::new(),
        Some(c) => parse_condition(&join(path, "Condition"), c, variables)?,
    };
    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        condition,
    })
}

/// At most one of `name`/`not_name`: returns (negated, path, value).
fn pair<'a>(
    path: &str,
    entries: &'a [(String, Json)],
    name: &str,
    not_name: &str,
) -> Result<Option<(bool, String, &'a Json)>, PolicyError> {
    match (get(entries, name), get(entries, not_name)) {
        (Some(_), Some(_)) => Err(err(
            path,
            format!("only one of \"{name}\" and \"{not_name}\" may be given"),
        )),
        (Some(v), None) => Ok(Some((false, join(path, name), v))),
        (None, Some(v)) => Ok(Some((true, join(path, not_name), v))),
        (None, None) => Ok(None),
    }
}

fn string_list(path: &str, v: &Json) -> Result<StringList, PolicyError> {
    match v {
        Json::String(s) => Ok(StringList {
            values: vec![s.clone()],
            is_array: false,
        }),
        Json::Array(items) => {
            if items.is_empty() {
                return Err(err(path, "must not be an empty array"));
            }
            let mut values = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Json::String(s) => values.push(s.clone()),
                    other => {
                        return Err(err(
                            &format!("{path}[{i}]"),
                            format!("must be a string, not {}", other.type_name()),
                        ))
                    }
                }
            }
            Ok(StringList {
                values,
                is_array: true,
            })
        }
        other => Err(err(
            path,
            format!(
                "must be a string or an array of strings, not {}",
                other.type_name()
            ),
        )),
    }
}

fn check_action(path: &str, i: usize, a: &str, is_array: bool) -> Result<(), PolicyError> {
    if a == "*" {
        return Ok(());
    }
    let ok = match a.split_once(':') {
        Some((service, name)) => {
            // AWS refuses a second colon ("Actions/Condition can contain
            // only one colon.").
            !service.is_empty()
                && !name.is_empty()
                && !name.contains(':')
                && service
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'*' | b'?' | b'_'))
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        let at = if is_array {
            format!("{path}[{i}]")
        } else {
            path.to_owned()
        };
        Err(err(
            &at,
            format!("action \"{a}\" must be \"*\" or \"service:action\""),
        ))
    }
}

fn parse_principals(path: &str, v: &Json) -> Result<Principals, PolicyError> {
    match v {
        Json::String(s) if s == "*" => Ok(Principals::Any),
        Json::String(s) => Err(err(
            path,
            format!("must be \"*\" or an object, not \"{s}\""),
        )),
        Json::Object(entries) => {
            check_keys(
                path,
                entries,
                &["AWS", "Service", "Federated", "CanonicalUser"],
                "principal type",
            )?;
            if entries.is_empty() {
                return Err(err(path, "must name at least one principal"));
            }
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let t = match k.as_str() {
                    "AWS" => PrincipalType::Aws,
                    "Service" => PrincipalType::Service,
                    "Federated" => PrincipalType::Federated,
                    _ => PrincipalType::CanonicalUser,
                };
                let p = format!("{path}.{k}");
                let list = string_list(&p, v)?;
                if list.values.iter().any(|s| s.is_empty()) {
                    return Err(err(&p, "principal must not be empty"));
                }
                out.push((t, list));
            }
            Ok(Principals::Map(out))
        }
        other => Err(err(
            path,
            format!("must be \"*\" or an object, not {}", other.type_name()),
        )),
    }
}

fn parse_condition(
    path: &str,
    v: &Json,
    variables: bool,
) -> Result<Vec<ConditionBlock>, PolicyError> {
    let Json::Object(ops) = v else {
        return Err(err(
            path,
            format!("must be an object, not {}", v.type_name()),
        ));
    };
    let mut seen = HashSet::new();
    let mut blocks = Vec::with_capacity(ops.len());
    for (name, body) in ops {
        if !seen.insert(name.as_str()) {
            return Err(err(path, format!("duplicate operator \"{name}\"")));
        }
        let Some(operator) = ConditionOperator::parse(name) else {
            return Err(err(path, format!("unknown operator \"{name}\"")));
        };
        let op_path = format!("{path}.{name}");
        let Json::Object(keys) = body else {
            return Err(err(
                &op_path,
                format!(
                    "must be an object of condition keys, not {}",
                    body.type_name()
                ),
            ));
        };
        if keys.is_empty() {
            return Err(err(&op_path, "must name at least one condition key"));
        }
        let mut seen_keys = HashSet::new();
        let mut entries = Vec::with_capacity(keys.len());
        for (key, raw) in keys {
            let key_path = format!("{op_path}.{key}");
            if key.is_empty() {
                return Err(err(&op_path, "condition key must not be empty"));
            }
            // Condition keys are case-insensitive, so `aws:username` and
            // `AWS:UserName` under one operator are the same key twice.
            if !seen_keys.insert(key.to_ascii_lowercase()) {
                return Err(err(&op_path, format!("duplicate condition key \"{key}\"")));
            }
            let (values, is_array) = match raw {
                Json::Array(items) => {
                    if items.is_empty() {
                        return Err(err(&key_path, "must not be an empty array"));
                    }
                    let mut vals = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        vals.push(scalar(&format!("{key_path}[{i}]"), item)?);
                    }
                    (vals, true)
                }
                other => (vec![scalar(&key_path, other)?], false),
            };
            for (i, val) in values.iter().enumerate() {
                let at = if is_array {
                    format!("{key_path}[{i}]")
                } else {
                    key_path.clone()
                };
                check_typed(&at, operator, &val.as_text(), variables)?;
            }
            entries.push(ConditionEntry {
                key: key.clone(),
                values,
                is_array,
            });
        }
        blocks.push(ConditionBlock { operator, entries });
    }
    Ok(blocks)
}

fn scalar(path: &str, v: &Json) -> Result<ConditionValue, PolicyError> {
    match v {
        Json::String(s) => Ok(ConditionValue::String(s.clone())),
        Json::Number(n) => Ok(ConditionValue::Number(n.clone())),
        Json::Bool(b) => Ok(ConditionValue::Bool(*b)),
        other => Err(err(
            path,
            format!(
                "condition value must be a string, number or boolean, not {}",
                other.type_name()
            ),
        )),
    }
}

/// Typed operators get typed values: a `NumericLessThan` on `"ten"` can never
/// match, so it is rejected up front rather than silently failing closed.
fn check_typed(
    path: &str,
    op: ConditionOperator,
    text: &str,
    variables: bool,
) -> Result<(), PolicyError> {
    // `Bool` accepts policy variables (the condition-operators page says so);
    // their value is only known per request.
    if variables && op.base.value_type() == ValueType::Bool && text.contains("${") {
        return Ok(());
    }
    let ok = match op.base.value_type() {
        ValueType::Numeric => parse_number(text).is_some(),
        ValueType::Date => parse_date(text).is_some(),
        ValueType::Bool | ValueType::Null => parse_bool(text).is_some(),
        ValueType::Ip => IpRange::parse(text).is_some(),
        ValueType::String | ValueType::Arn | ValueType::Binary => true,
    };
    if ok {
        Ok(())
    } else {
        let what = match op.base.value_type() {
            ValueType::Numeric => "number",
            ValueType::Date => "date",
            ValueType::Ip => "IP address or CIDR range",
            _ => "boolean (\"true\" or \"false\")",
        };
        Err(err(
            path,
            format!("invalid {what} \"{text}\" for operator {}", op.name()),
        ))
    }
}

pub(super) fn validate_for(doc: &PolicyDocument, kind: PolicyKind) -> Result<(), PolicyError> {
    for (i, st) in doc.statements.iter().enumerate() {
        let path = format!("Statement[{i}]");
        let has_principal = st.principal.is_some();
        match kind {
            PolicyKind::Identity | PolicyKind::PermissionsBoundary | PolicyKind::Session => {
                if let Some(p) = &st.principal {
                    let name = if p.negated {
                        "NotPrincipal"
                    } else {
                        "Principal"
                    };
                    return Err(err(
                        &path,
                        format!("{name} is not allowed in {}", kind_name(kind)),
                    ));
                }
            }
            PolicyKind::Resource | PolicyKind::Trust => {
                // "You cannot use NotPrincipal in a role trust policy":
                // with Allow it would trust every principal but one.
                if kind == PolicyKind::Trust && st.principal.as_ref().is_some_and(|p| p.negated) {
                    return Err(err(&path, "NotPrincipal is not allowed in a trust policy"));
                }
                if !has_principal {
                    return Err(err(
                        &path,
                        format!(
                            "missing required element \"Principal\" in {}",
                            kind_name(kind)
                        ),
                    ));
                }
            }
            PolicyKind::ControlPolicy => {
                if let Some(p) = &st.principal {
                    if p.negated || p.principals != Principals::Any {
                        return Err(err(&path, "a control policy may only name Principal \"*\""));
                    }
                }
            }
        }
        match kind {
            PolicyKind::Trust => {
                if let Some(r) = &st.resource {
                    let name = if r.negated { "NotResource" } else { "Resource" };
                    return Err(err(
                        &path,
                        format!("{name} is not allowed in a trust policy"),
                    ));
                }
            }
            PolicyKind::ControlPolicy => {}
            _ => {
                if st.resource.is_none() {
                    return Err(err(
                        &path,
                        "missing required element \"Resource\" or \"NotResource\"",
                    ));
                }
            }
        }
    }
    Ok(())
}

fn kind_name(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Identity => "an identity policy",
        PolicyKind::Resource => "a resource policy",
        PolicyKind::Trust => "a trust policy",
        PolicyKind::PermissionsBoundary => "a permissions boundary",
        PolicyKind::Session => "a session policy",
        PolicyKind::ControlPolicy => "a control policy",
    }
}
