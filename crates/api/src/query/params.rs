//! A request's parameters, whatever protocol carried them: the Query
//! protocol's form (POST body) and query string (GET and presigned
//! requests), or a JSON body. Both become one [`Node`] tree, which the
//! generated decoders read the typed input from and authorization reads
//! its request-supplied condition keys from.

use std::collections::{BTreeMap, HashMap};

use iam_wire::Node;

use super::ApiError;

/// The most parameters a Query request may carry. IAM's largest requests
/// (a simulation with its context entries, 50 tags) need a few hundred.
pub const MAX_PARAMETERS: usize = 1_000;

/// The most values (objects, arrays, members) a JSON request may carry.
pub const MAX_JSON_VALUES: usize = 10_000;

fn too_many(n: usize) -> Result<(), ApiError> {
    if n > MAX_PARAMETERS {
        return Err(ApiError::validation(format!(
            "The request has more than {MAX_PARAMETERS} parameters."
        )));
    }
    Ok(())
}

/// The request's parameters. Names are case-sensitive, as in AWS.
#[derive(Debug, Default, Clone)]
pub struct Params {
    tree: Node,
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
    ///
    /// At most [`MAX_PARAMETERS`] parameters are accepted. The tree is built
    /// in name order, so a request means one thing however its parameters
    /// are ordered.
    pub fn from_request(query: &str, form_body: &[u8]) -> Result<Params, ApiError> {
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        for p in crate::sigv4::parse_query(query) {
            values.insert(
                String::from_utf8_lossy(&p.name).into_owned(),
                String::from_utf8_lossy(&p.value).into_owned(),
            );
            too_many(values.len())?;
        }
        for (k, v) in url::form_urlencoded::parse(form_body) {
            values.insert(k.into_owned(), v.into_owned());
            too_many(values.len())?;
        }
        // Presigned requests' authentication parameters are not the
        // operation's.
        values.retain(|k, _| !k.starts_with("X-Amz-"));
        Ok(Params {
            tree: Node::from_query(values.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        })
    }

    /// The `Action` parameter alone, read without building anything, for
    /// what must be known before the caller is authenticated. The form
    /// body wins over the query string, as in [`Params::from_request`].
    pub fn action(query: &str, form_body: &[u8]) -> Option<String> {
        let from_form = url::form_urlencoded::parse(form_body)
            .filter(|(k, _)| k == "Action")
            .last()
            .map(|(_, v)| v.into_owned());
        from_form.or_else(|| {
            crate::sigv4::parse_query(query)
                .into_iter()
                .rfind(|p| p.name == b"Action")
                .map(|p| String::from_utf8_lossy(&p.value).into_owned())
        })
    }

    /// Refuses a JSON body with more than `max` values (see
    /// [`MAX_JSON_VALUES`]) before it is parsed: a megabyte of
    /// `[{},{},…]` would otherwise take hundreds of megabytes as a tree.
    pub fn check_json_size(body: &[u8], max: usize) -> Result<(), ApiError> {
        let mut values = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        for &b in body {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' | b',' => values += 1,
                _ => {}
            }
        }
        if values > max {
            return Err(ApiError::new(
                400,
                "SerializationException",
                format!("The request body has more than {max} values."),
            ));
        }
        Ok(())
    }

    /// A JSON request's parameters (the body's object).
    pub fn from_json(value: &serde_json::Value) -> Params {
        Params {
            tree: Node::from_json(value),
        }
    }

    /// Parameters read into a tree already (a JSON body read straight
    /// from its text).
    pub fn from_tree(tree: Node) -> Params {
        Params { tree }
    }

    /// The parameters with `members` added (a REST route's path
    /// parameters, which win over the body's or query's).
    pub fn with_members(mut self, members: &[(String, String)]) -> Params {
        if let Node::Struct(tree) = &mut self.tree {
            for (k, v) in members {
                tree.insert(k.as_str().into(), Node::Text(v.clone()));
            }
        }
        self
    }

    /// The parameters as a tree, for the generated decoders.
    pub fn tree(&self) -> &Node {
        &self.tree
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        match self.tree.member(name) {
            Some(Node::Text(t)) => Some(t),
            _ => None,
        }
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

    /// A list of scalars (`Name.member.N` in Query, an array in JSON), in
    /// order.
    pub fn list(&self, name: &str) -> Vec<&str> {
        match self.tree.member(name) {
            Some(Node::List(items)) => items
                .iter()
                .filter_map(|n| match n {
                    Node::Text(t) => Some(t.as_str()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A list of structures (`Name.member.N.Field`), as maps of field →
    /// value.
    pub fn structs(&self, name: &str, fields: &[&str]) -> Vec<HashMap<String, String>> {
        let Some(Node::List(items)) = self.tree.member(name) else {
            return Vec::new();
        };
        items
            .iter()
            .map(|item| {
                fields
                    .iter()
                    .filter_map(|f| match item.member(f) {
                        Some(Node::Text(t)) => Some(((*f).to_owned(), t.clone())),
                        _ => None,
                    })
                    .collect()
            })
            .collect()
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
        let p = Params::from_request("A=x+y%2Bz&B=%20&X-Amz-Date=1", b"C=x+y%2Bz").unwrap();
        assert_eq!(p.get("A"), Some("x+y+z"), "+ is a plus in the query string");
        assert_eq!(p.get("B"), Some(" "));
        assert_eq!(p.get("C"), Some("x y+z"), "+ is a space in a form body");
        assert_eq!(p.get("X-Amz-Date"), None);
    }

    #[test]
    fn body_values_win_over_query_values() {
        let p = Params::from_request("A=query", b"A=body").unwrap();
        assert_eq!(p.get("A"), Some("body"));
    }
}
