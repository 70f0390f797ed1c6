//! Request parameters of the Query protocol, from the form body (POST) and
//! the query string (GET and presigned requests).

use std::collections::HashMap;

use super::ApiError;

/// The request's parameters. Names are case-sensitive, as in AWS.
#[derive(Debug, Default, Clone)]
pub struct Params {
    values: HashMap<String, String>,
}

impl Params {
    /// Parses `application/x-www-form-urlencoded` text; later values of a
    /// repeated name win, as AWS's parser does.
    pub fn parse(pairs: &[&[u8]]) -> Params {
        let mut values = HashMap::new();
        for part in pairs {
            for (k, v) in url::form_urlencoded::parse(part) {
                if k.starts_with("X-Amz-") {
                    continue; // presigned authentication parameters
                }
                values.insert(k.into_owned(), v.into_owned());
            }
        }
        Params { values }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A required parameter.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        match self.get(name) {
            Some(v) => Ok(v),
            None => Err(ApiError::validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(name)
            ))),
        }
    }

    /// An optional boolean (`true`/`false`).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::validation(format!(
                "Invalid value for parameter {name}: {other:?} is not a boolean"
            ))),
        }
    }

    /// An optional integer within bounds.
    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(text) => match text.parse::<i64>() {
                Ok(v) if (min..=max).contains(&v) => Ok(Some(v)),
                _ => Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: \
                     Member must have value between {min} and {max}",
                    iam_domain::names::shown(text),
                    lower_first(name)
                ))),
            },
        }
    }

    /// A list `Name.member.1`, `Name.member.2`, ... in order.
    pub fn list(&self, name: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for i in 1.. {
            match self.get(&format!("{name}.member.{i}")) {
                Some(v) => out.push(v),
                None => break,
            }
        }
        out
    }

    /// A list of structures `Name.member.N.Field`, as maps of field → value.
    pub fn structs(&self, name: &str, fields: &[&str]) -> Vec<HashMap<String, String>> {
        let mut out = Vec::new();
        for i in 1.. {
            let mut item = HashMap::new();
            for f in fields {
                if let Some(v) = self.get(&format!("{name}.member.{i}.{f}")) {
                    item.insert((*f).to_owned(), v.to_owned());
                }
            }
            if item.is_empty() {
                break;
            }
            out.push(item);
        }
        out
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
