//! Serialization back to AWS JSON: the output parses to an equal document,
//! with elements in AWS's customary order and condition operators in the
//! order they were written.

use super::json::Json as Value;

use super::{
    ConditionValue, PatternElement, PolicyDocument, PrincipalElement, Principals, Statement,
    StringList,
};

fn list(l: &StringList) -> Value {
    match l.values.as_slice() {
        [one] if !l.is_array => Value::String(one.clone()),
        all => Value::Array(all.iter().cloned().map(Value::String).collect()),
    }
}

fn value(v: &ConditionValue) -> Value {
    match v {
        ConditionValue::String(s) => Value::String(s.clone()),
        ConditionValue::Number(n) => Value::Number(n.clone()),
        ConditionValue::Bool(b) => Value::Bool(*b),
    }
}

fn principal(p: &PrincipalElement) -> Value {
    match &p.principals {
        Principals::Any => Value::String("*".into()),
        Principals::Map(entries) => {
            let mut m: Vec<(String, Value)> = Vec::new();
            for (t, l) in entries {
                m.push((t.as_str().to_owned(), list(l)));
            }
            Value::Object(m)
        }
    }
}

fn pattern(m: &mut Vec<(String, Value)>, name: &str, not_name: &str, p: &PatternElement) {
    let key = if p.negated { not_name } else { name };
    m.push((key.to_owned(), list(&p.patterns)));
}

fn statement(s: &Statement) -> Value {
    let mut m: Vec<(String, Value)> = Vec::new();
    if let Some(sid) = &s.sid {
        m.push(("Sid".to_owned(), Value::String(sid.clone())));
    }
    m.push(("Effect".to_owned(), Value::String(s.effect.as_str().into())));
    if let Some(p) = &s.principal {
        let key = if p.negated {
            "NotPrincipal"
        } else {
            "Principal"
        };
        m.push((key.to_owned(), principal(p)));
    }
    pattern(&mut m, "Action", "NotAction", &s.action);
    if let Some(r) = &s.resource {
        pattern(&mut m, "Resource", "NotResource", r);
    }
    if !s.condition.is_empty() {
        let mut c: Vec<(String, Value)> = Vec::new();
        for block in &s.condition {
            let mut keys: Vec<(String, Value)> = Vec::new();
            for e in &block.entries {
                let v = match e.values.as_slice() {
                    [one] if !e.is_array => value(one),
                    all => Value::Array(all.iter().map(value).collect()),
                };
                keys.push((e.key.clone(), v));
            }
            c.push((block.operator.name(), Value::Object(keys)));
        }
        m.push(("Condition".to_owned(), Value::Object(c)));
    }
    Value::Object(m)
}

pub(super) fn document_to_json(d: &PolicyDocument) -> Value {
    let mut m: Vec<(String, Value)> = Vec::new();
    if let Some(v) = d.version {
        m.push(("Version".to_owned(), Value::String(v.as_str().into())));
    }
    if let Some(id) = &d.id {
        m.push(("Id".to_owned(), Value::String(id.clone())));
    }
    let stmts = match d.statements.as_slice() {
        [one] if !d.statement_is_array => statement(one),
        all => Value::Array(all.iter().map(statement).collect()),
    };
    m.push(("Statement".to_owned(), stmts));
    Value::Object(m)
}
