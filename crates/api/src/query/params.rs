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
    /// A request's parameters: the raw query string (without `?`), then the
    /// form body (pass `b""` when the body is not a form), whose values win.
    ///
    /// The query string is decoded exactly as SigV4 canonicalizes it
    /// (`sigv4::parse_query`): `%XX` sequences only, `+` is a literal plus.
    /// So a query parameter means what its signature covered: `a+b` signed
    /// as `a%2Bb` is never read as `a b`. The form body follows the form
    /// spec (`+` is a space); its bytes are covered by the payload hash, so
    /// how they decode cannot differ from what was signed.
    pub fn from_request(query: &str, form_body: &[u8]) -> Params {
        let mut params = Params::default();
        for p in crate::sigv4::parse_query(query) {
            params.insert(
                String::from_utf8_lossy(&p.name).into_owned(),
                String::from_utf8_lossy(&p.value).into_owned(),
            );
        }
        params.add_form(form_body);
        params
    }

    fn add_form(&mut self, form: &[u8]) {
        for (k, v) in url::form_urlencoded::parse(form) {
            self.insert(k.into_owned(), v.into_owned());
        }
    }

    fn insert(&mut self, name: String, value: String) {
        if name.starts_with("X-Amz-") {
            return; // presigned authentication parameters
        }
        self.values.insert(name, value);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_string_is_read_as_sigv4_reads_it_and_the_form_as_a_form() {
        let p = Params::from_request("A=x+y%2Bz&B=%20&X-Amz-Date=1", b"C=x+y%2Bz");
        assert_eq!(p.get("A"), Some("x+y+z"), "+ is a plus in the query string");
        assert_eq!(p.get("B"), Some(" "));
        assert_eq!(p.get("C"), Some("x y+z"), "+ is a space in a form body");
        assert_eq!(p.get("X-Amz-Date"), None);
    }

    #[test]
    fn body_values_win_over_query_values() {
        let p = Params::from_request("A=query", b"A=body");
        assert_eq!(p.get("A"), Some("body"));
    }
}
