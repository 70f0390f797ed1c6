//! The order of each structure's members as the model file writes them.
//!
//! `serde_json::Value` keeps object keys sorted (the workspace does not
//! enable `preserve_order`, and must not: feature unification would change
//! it for every crate). AWS writes members in the model's order, and some
//! clients compare XML text, so the generator reads that order separately.

use std::collections::HashMap;
use std::fmt;

use anyhow::{Context, Result};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

/// Each structure's member names, in model order.
pub struct MemberOrder(HashMap<String, Vec<String>>);

impl MemberOrder {
    pub fn parse(model_text: &str) -> Result<MemberOrder> {
        let model: Model =
            serde_json::from_str(model_text).context("reading the model's member order")?;
        Ok(MemberOrder(
            model
                .shapes
                .0
                .into_iter()
                .map(|(name, shape)| (name, shape.members.map(|m| m.0).unwrap_or_default()))
                .collect(),
        ))
    }

    /// The members of `shape`, in model order.
    pub fn of(&self, shape: &str) -> &[String] {
        self.0.get(shape).map(Vec::as_slice).unwrap_or_default()
    }
}

#[derive(serde::Deserialize)]
struct Model {
    shapes: Entries<Shape>,
}

#[derive(serde::Deserialize)]
struct Shape {
    members: Option<Keys>,
}

/// An object's entries, in document order.
struct Entries<T>(Vec<(String, T)>);

/// An object's keys, in document order.
struct Keys(Vec<String>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Entries<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Entries<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let entries = Entries::<IgnoredAny>::deserialize(d)?;
        Ok(Keys(entries.0.into_iter().map(|(k, _)| k).collect()))
    }
}
