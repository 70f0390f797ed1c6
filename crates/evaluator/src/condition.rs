//! Compiled conditions and AWS's rules for evaluating them.
//!
//! The rules, from the condition-operator and multi-value pages:
//! - several keys under one operator, and several operators, are ANDed;
//!   several policy values for one key are ORed, and NORed for negated
//!   operators (a negated operator is exactly the negation of its positive form);
//! - a missing key makes a positive operator false and a negated one true,
//!   except `...IfExists` (missing is true) and `Null` (tests presence);
//! - `ForAllValues:` is true when every request value passes (vacuously true
//!   for a missing or empty key); `ForAnyValue:` when at least one passes
//!   (false for a missing key); each request value is tested against all
//!   policy values with the operator's own OR/NOR rule.

use std::net::IpAddr;

use iam_domain::policy::condition::{parse_date, parse_number};
use iam_domain::policy::{
    BaseOperator, ConditionBlock, ConditionOperator, IpRange, SetQualifier, ValueType,
};

use crate::glob::{Pattern, VarRef, Wildcards};
use crate::request::Context;

/// The values of one condition, pre-parsed for the operator's type.
#[derive(Debug, Clone)]
enum Values {
    /// String, Bool: compiled patterns (wildcards only for `StringLike`).
    Patterns(Box<[Pattern]>),
    /// ARN operators: component-wise patterns.
    Arns(Box<[ArnPattern]>),
    Numbers(Box<[f64]>),
    /// Epoch milliseconds.
    Dates(Box<[i64]>),
    Binary(Box<[Box<str>]>),
    Ips(Box<[IpRange]>),
    /// `Null`: the policy values (`true` = key must be absent).
    Null(Box<[bool]>),
}

/// One `operator: {key: values}` pair.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    op: ConditionOperator,
    /// Lowercased: keys are case-insensitive.
    key: Box<str>,
    values: Values,
}

/// An ARN pattern split into its six colon-separated components. A policy
/// value with fewer components is matched whole, like `StringLike`.
#[derive(Debug, Clone)]
enum ArnPattern {
    Components(Box<[Pattern; 6]>),
    Whole(Pattern),
}

/// Split at `:` outside `${...}`, into at most six parts.
fn split_arn_template(text: &str) -> Vec<&str> {
    let mut parts = Vec::with_capacity(6);
    let bytes = text.as_bytes();
    let (mut start, mut depth, mut i) = (0, 0usize, 0);
    while i < bytes.len() && parts.len() < 5 {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
}

impl ArnPattern {
    fn compile(text: &str, variables: bool, vars: &mut Vec<VarRef>) -> ArnPattern {
        let parts = split_arn_template(text);
        if parts.len() == 6 {
            let p: [Pattern; 6] = std::array::from_fn(|i| {
                Pattern::compile(parts[i], Wildcards::On, false, variables, vars)
            });
            ArnPattern::Components(Box::new(p))
        } else {
            ArnPattern::Whole(Pattern::compile(
                text,
                Wildcards::On,
                false,
                variables,
                vars,
            ))
        }
    }

    fn matches<'a>(&self, value: &str, resolve: &dyn Fn(u16) -> Option<&'a str>) -> bool {
        match self {
            ArnPattern::Whole(p) => p.matches(value, resolve),
            ArnPattern::Components(pats) => {
                let mut it = value.splitn(6, ':');
                for p in pats.iter() {
                    match it.next() {
                        Some(c) if p.matches(c, resolve) => {}
                        _ => return false,
                    }
                }
                true
            }
        }
    }
}

impl Condition {
    /// The key it reads, lowercased.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }
}

impl Condition {
    /// Compile every key of an operator block.
    pub(crate) fn compile_block(
        block: &ConditionBlock,
        variables: bool,
        vars: &mut Vec<VarRef>,
        out: &mut Vec<Condition>,
    ) {
        let op = block.operator;
        let vars_here = variables
            && matches!(
                op.base.value_type(),
                ValueType::String | ValueType::Arn | ValueType::Bool
            );
        for entry in &block.entries {
            let texts: Vec<String> = entry
                .values
                .iter()
                .map(|v| v.as_text().into_owned())
                .collect();
            let values = match op.base.value_type() {
                ValueType::String => {
                    let (wild, fold) = match op.base {
                        BaseOperator::StringLike | BaseOperator::StringNotLike => {
                            (Wildcards::On, false)
                        }
                        BaseOperator::StringEqualsIgnoreCase
                        | BaseOperator::StringNotEqualsIgnoreCase => (Wildcards::Off, true),
                        _ => (Wildcards::Off, false),
                    };
                    Values::Patterns(
                        texts
                            .iter()
                            .map(|t| Pattern::compile(t, wild, fold, vars_here, vars))
                            .collect(),
                    )
                }
                ValueType::Bool => Values::Patterns(
                    texts
                        .iter()
                        .map(|t| Pattern::compile(t, Wildcards::Off, true, vars_here, vars))
                        .collect(),
                ),
                ValueType::Arn => Values::Arns(
                    texts
                        .iter()
                        .map(|t| ArnPattern::compile(t, vars_here, vars))
                        .collect(),
                ),
                // INVARIANT: the parser rejected values that do not parse, so
                // filter_map drops nothing; it only avoids a panic path.
                ValueType::Numeric => {
                    Values::Numbers(texts.iter().filter_map(|t| parse_number(t)).collect())
                }
                ValueType::Date => {
                    Values::Dates(texts.iter().filter_map(|t| parse_date(t)).collect())
                }
                ValueType::Binary => {
                    Values::Binary(texts.iter().map(|t| t.as_str().into()).collect())
                }
                ValueType::Ip => {
                    Values::Ips(texts.iter().filter_map(|t| IpRange::parse(t)).collect())
                }
                ValueType::Null => Values::Null(
                    texts
                        .iter()
                        .map(|t| t.eq_ignore_ascii_case("true"))
                        .collect(),
                ),
            };
            out.push(Condition {
                op,
                key: entry.key.to_ascii_lowercase().into(),
                values,
            });
        }
    }

    /// Evaluate against the request context.
    pub(crate) fn evaluate<'a>(
        &self,
        ctx: &'a Context,
        resolve: &dyn Fn(u16) -> Option<&'a str>,
    ) -> bool {
        let present = ctx.get_lower(&self.key);
        if let Values::Null(expect_absent) = &self.values {
            return expect_absent
                .iter()
                .any(|&absent| absent == present.is_none());
        }
        let negated = self.op.base.is_negated();
        let Some(request_values) = present else {
            if self.op.if_exists {
                return true;
            }
            return match self.op.qualifier {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => negated,
            };
        };
        let per_value = |v: &str| self.positive(v, resolve) != negated;
        match self.op.qualifier {
            None => {
                let any = request_values.iter().any(|v| self.positive(v, resolve));
                any != negated
            }
            Some(SetQualifier::ForAnyValue) => request_values.iter().any(|v| per_value(v)),
            Some(SetQualifier::ForAllValues) => request_values.iter().all(|v| per_value(v)),
        }
    }

    /// Whether request value `v` matches any policy value under the positive
    /// form of the operator.
    fn positive<'a>(&self, v: &str, resolve: &dyn Fn(u16) -> Option<&'a str>) -> bool {
        use BaseOperator::*;
        match &self.values {
            Values::Patterns(ps) => ps.iter().any(|p| p.matches(v, resolve)),
            Values::Arns(ps) => ps.iter().any(|p| p.matches(v, resolve)),
            Values::Numbers(ns) => {
                let Some(x) = parse_number(v) else {
                    return false;
                };
                ns.iter().any(|&n| match self.op.base {
                    NumericLessThan => x < n,
                    NumericLessThanEquals => x <= n,
                    NumericGreaterThan => x > n,
                    NumericGreaterThanEquals => x >= n,
                    _ => x == n,
                })
            }
            Values::Dates(ds) => {
                let Some(x) = parse_date(v) else { return false };
                ds.iter().any(|&d| match self.op.base {
                    DateLessThan => x < d,
                    DateLessThanEquals => x <= d,
                    DateGreaterThan => x > d,
                    DateGreaterThanEquals => x >= d,
                    _ => x == d,
                })
            }
            Values::Binary(bs) => bs.iter().any(|b| **b == *v),
            Values::Ips(rs) => {
                let Ok(ip) = v.trim().parse::<IpAddr>() else {
                    // A request value given as a CIDR is compared as its address.
                    return match IpRange::parse(v) {
                        Some(r) => rs.iter().any(|range| range.contains(r.addr)),
                        None => false,
                    };
                };
                rs.iter().any(|r| r.contains(ip))
            }
            Values::Null(_) => false,
        }
    }
}
