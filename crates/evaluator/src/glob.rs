//! Compiled string patterns: the wildcards `*` and `?` plus policy variables.
//!
//! A pattern is split once into [`Token`]s. Matching walks the tokens and the
//! input together with the classic single-backtrack glob algorithm, resolving
//! variables on the fly through a callback, so nothing is allocated and a
//! substituted value can never act as a wildcard.

use iam_domain::policy::variables::{parse_template, TemplatePart};

/// One piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// Literal bytes (already lowercased when the pattern is case-insensitive).
    Lit(Box<str>),
    /// `*`: any run of characters, including `/` and `:`.
    Star,
    /// `?`: exactly one character.
    One,
    /// A policy variable, by index into the pattern's variable table.
    Var(u16),
}

/// A policy variable reference: the lowercased key and an optional default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VarRef {
    pub key: Box<str>,
    pub default: Option<Box<str>>,
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    kind: PatternKind,
    /// Whether ASCII case is ignored (actions, `StringEqualsIgnoreCase`).
    fold: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PatternKind {
    /// Exactly `*`: matches everything without looking at the input.
    Any,
    /// No wildcards and no variables: a plain comparison.
    Exact(Box<str>),
    /// The general case. `prefix` and `suffix` are the literal text before the
    /// first and after the last wildcard or variable: checking them with one
    /// slice comparison rejects most non-matching inputs without running the
    /// glob.
    Tokens {
        tokens: Box<[Token]>,
        prefix: Box<str>,
        suffix: Box<str>,
        /// For patterns made only of literals and `*` (the common shapes
        /// `s3:Get*`, `arn:aws:s3:::*log*`): the literals between the prefix
        /// and the suffix, which match when found in order (leftmost-first is
        /// exact for star-only patterns). `None` when `?` or variables need
        /// the general glob.
        middles: Option<Box<[Box<str>]>>,
    },
}

/// Whether `*` and `?` in policy text are wildcards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wildcards {
    On,
    Off,
}

impl Pattern {
    /// Compile `text`. Variables are registered in `vars` (shared per statement
    /// so the same key is resolved once per request).
    pub(crate) fn compile(
        text: &str,
        wildcards: Wildcards,
        fold: bool,
        variables: bool,
        vars: &mut Vec<VarRef>,
    ) -> Pattern {
        let norm = |s: &str| -> String {
            if fold {
                s.to_ascii_lowercase()
            } else {
                s.to_owned()
            }
        };
        if wildcards == Wildcards::On && text == "*" {
            return Pattern {
                kind: PatternKind::Any,
                fold,
            };
        }
        let parts = parse_template(text, variables);
        let mut tokens: Vec<Token> = Vec::new();
        let push_lit = |tokens: &mut Vec<Token>, s: &str| {
            if s.is_empty() {
                return;
            }
            if let Some(Token::Lit(prev)) = tokens.last_mut() {
                let mut joined = String::with_capacity(prev.len() + s.len());
                joined.push_str(prev);
                joined.push_str(s);
                *prev = joined.into_boxed_str();
            } else {
                tokens.push(Token::Lit(s.into()));
            }
        };
        for part in parts {
            match part {
                TemplatePart::Text(t) => {
                    let t = norm(&t);
                    if wildcards == Wildcards::Off {
                        push_lit(&mut tokens, &t);
                        continue;
                    }
                    let mut start = 0;
                    for (i, c) in t.char_indices() {
                        if c == '*' || c == '?' {
                            push_lit(&mut tokens, &t[start..i]);
                            if c == '*' {
                                if tokens.last() != Some(&Token::Star) {
                                    tokens.push(Token::Star);
                                }
                            } else {
                                tokens.push(Token::One);
                            }
                            start = i + 1;
                        }
                    }
                    push_lit(&mut tokens, &t[start..]);
                }
                TemplatePart::Literal(c) => push_lit(&mut tokens, c.encode_utf8(&mut [0; 4])),
                TemplatePart::Variable { key, default } => {
                    let key = key.to_ascii_lowercase();
                    let idx = match vars
                        .iter()
                        .position(|v| *v.key == *key && v.default.as_deref() == default.as_deref())
                    {
                        Some(i) => i,
                        None => {
                            vars.push(VarRef {
                                key: key.into(),
                                default: default.map(Into::into),
                            });
                            vars.len() - 1
                        }
                    };
                    tokens.push(Token::Var(u16::try_from(idx).unwrap_or(u16::MAX)));
                }
            }
        }
        let kind = match tokens.as_slice() {
            [] => PatternKind::Exact("".into()),
            [Token::Lit(s)] => PatternKind::Exact(s.clone()),
            [Token::Star] => PatternKind::Any,
            _ => {
                let prefix = match tokens.first() {
                    Some(Token::Lit(s)) => s.clone(),
                    _ => "".into(),
                };
                let suffix = match tokens.last() {
                    Some(Token::Lit(s)) if tokens.len() > 1 => s.clone(),
                    _ => "".into(),
                };
                let star_only = tokens
                    .iter()
                    .all(|t| matches!(t, Token::Lit(_) | Token::Star));
                let last = tokens.len() - 1;
                let middles = star_only.then(|| {
                    tokens
                        .iter()
                        .enumerate()
                        .filter_map(|(k, t)| match t {
                            Token::Lit(s) if k != 0 && k != last => Some(s.clone()),
                            _ => None,
                        })
                        .collect()
                });
                PatternKind::Tokens {
                    tokens: tokens.into_boxed_slice(),
                    prefix,
                    suffix,
                    middles,
                }
            }
        };
        Pattern { kind, fold }
    }

    /// The literal text every match must start with (empty when the pattern
    /// starts with a wildcard or a variable). Used by the resource index.
    pub(crate) fn literal_prefix(&self) -> &str {
        match &self.kind {
            PatternKind::Any => "",
            PatternKind::Exact(s) => s,
            PatternKind::Tokens { prefix, .. } => prefix,
        }
    }

    /// Match `input`. `resolve(i)` gives the value of variable `i`, or `None`
    /// when it has no value, in which case the pattern matches nothing.
    pub(crate) fn matches<'a>(
        &self,
        input: &str,
        resolve: &dyn Fn(u16) -> Option<&'a str>,
    ) -> bool {
        match &self.kind {
            PatternKind::Any => true,
            PatternKind::Exact(s) => {
                if self.fold {
                    s.len() == input.len()
                        && s.as_bytes()
                            .iter()
                            .zip(input.as_bytes())
                            .all(|(a, b)| *a == b.to_ascii_lowercase())
                } else {
                    **s == *input
                }
            }
            PatternKind::Tokens {
                tokens,
                prefix,
                suffix,
                middles,
            } => {
                let (i, p, x) = (input.as_bytes(), prefix.as_bytes(), suffix.as_bytes());
                if i.len() < p.len() + x.len() {
                    return false;
                }
                let (head, tail) = (&i[..p.len()], &i[i.len() - x.len()..]);
                let fixed = if self.fold {
                    head.eq_ignore_ascii_case(p) && tail.eq_ignore_ascii_case(x)
                } else {
                    head == p && tail == x
                };
                if !fixed {
                    return false;
                }
                if let Some(middles) = middles {
                    let mut hay = &i[p.len()..i.len() - x.len()];
                    for m in middles.iter() {
                        match find(hay, m.as_bytes(), self.fold) {
                            Some(at) => hay = &hay[at + m.len()..],
                            None => return false,
                        }
                    }
                    return true;
                }
                // Resolve variables up front: a missing one means no match.
                for t in tokens.iter() {
                    if let Token::Var(i) = t {
                        if resolve(*i).is_none() {
                            return false;
                        }
                    }
                }
                let tokens: &[Token] = tokens;
                glob(tokens, input.as_bytes(), self.fold, &|i| resolve(i))
            }
        }
    }
}

/// The first position of `needle` in `hay` (ASCII case-insensitively with
/// `fold`; the needle is then already lowercase).
fn find(hay: &[u8], needle: &[u8], fold: bool) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    if needle.len() > hay.len() {
        return None;
    }
    let (first, rest) = (needle[0], &needle[1..]);
    let last_start = hay.len() - needle.len();
    let mut k = 0;
    while k <= last_start {
        let b = hay[k];
        let hit = if fold {
            b.eq_ignore_ascii_case(&first)
                && hay[k + 1..k + needle.len()].eq_ignore_ascii_case(rest)
        } else {
            b == first && &hay[k + 1..k + needle.len()] == rest
        };
        if hit {
            return Some(k);
        }
        k += 1;
    }
    None
}

/// A position inside the pattern: token index and byte offset in that token.
#[derive(Clone, Copy)]
struct Pos {
    tok: usize,
    off: usize,
}

enum Atom {
    Byte(u8),
    Star,
    One,
    End,
}

fn token_bytes<'a>(t: &'a Token, resolve: &dyn Fn(u16) -> Option<&'a str>) -> &'a [u8] {
    match t {
        Token::Lit(s) => s.as_bytes(),
        Token::Var(i) => resolve(*i).unwrap_or("").as_bytes(),
        _ => &[],
    }
}

/// The atom at `p` and the position after it.
fn atom<'a>(
    tokens: &'a [Token],
    mut p: Pos,
    resolve: &dyn Fn(u16) -> Option<&'a str>,
) -> (Atom, Pos) {
    loop {
        let Some(t) = tokens.get(p.tok) else {
            return (Atom::End, p);
        };
        match t {
            Token::Star => {
                return (
                    Atom::Star,
                    Pos {
                        tok: p.tok + 1,
                        off: 0,
                    },
                )
            }
            Token::One => {
                return (
                    Atom::One,
                    Pos {
                        tok: p.tok + 1,
                        off: 0,
                    },
                )
            }
            _ => {
                let bytes = token_bytes(t, resolve);
                if p.off < bytes.len() {
                    return (
                        Atom::Byte(bytes[p.off]),
                        Pos {
                            tok: p.tok,
                            off: p.off + 1,
                        },
                    );
                }
                p = Pos {
                    tok: p.tok + 1,
                    off: 0,
                };
            }
        }
    }
}

/// Length in bytes of the UTF-8 character starting with `b`.
fn char_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn glob<'a>(
    tokens: &'a [Token],
    input: &[u8],
    fold: bool,
    resolve: &dyn Fn(u16) -> Option<&'a str>,
) -> bool {
    let mut p = Pos { tok: 0, off: 0 };
    let mut i = 0usize;
    let mut backtrack: Option<(Pos, usize)> = None;
    loop {
        let (a, next) = atom(tokens, p, resolve);
        let step = match a {
            Atom::Star => {
                backtrack = Some((next, i));
                p = next;
                continue;
            }
            Atom::End if i == input.len() => return true,
            Atom::End => false,
            Atom::One if i < input.len() => {
                i += char_len(input[i]).min(input.len() - i);
                p = next;
                true
            }
            Atom::One => false,
            Atom::Byte(b)
                if i < input.len()
                    && (b == input[i] || fold && b.eq_ignore_ascii_case(&input[i])) =>
            {
                i += 1;
                p = next;
                true
            }
            Atom::Byte(_) => false,
        };
        if !step {
            match backtrack {
                Some((star_next, start)) if start < input.len() => {
                    let start = start + char_len(input[start]).min(input.len() - start);
                    backtrack = Some((star_next, start));
                    p = star_next;
                    i = start;
                }
                _ => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pat: &str, input: &str) -> bool {
        let mut vars = Vec::new();
        Pattern::compile(pat, Wildcards::On, false, true, &mut vars)
            .matches(input, &|_| Some("alice"))
    }

    #[test]
    fn globs() {
        assert!(m("*", "anything"));
        assert!(m("a*c", "abc"));
        assert!(m("a*c", "ac"));
        assert!(m("a*c", "a/b/c"));
        assert!(!m("a*c", "acd"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a?c", "aéc"));
        assert!(m("*log*", "arn:aws:s3:::my-logs"));
        assert!(m("home/${aws:username}/*", "home/alice/x"));
        assert!(!m("home/${aws:username}/*", "home/bob/x"));
        assert!(m("a${*}b", "a*b"));
        assert!(!m("a${*}b", "axb"));
        assert!(m("**a", "bba"));
    }

    #[test]
    fn fold() {
        let mut vars = Vec::new();
        let p = Pattern::compile("S3:Get*", Wildcards::On, true, false, &mut vars);
        assert!(p.matches("s3:getobject", &|_| None));
        assert!(p.matches("S3:GETOBJECT", &|_| None));
    }

    #[test]
    fn missing_variable_never_matches() {
        let mut vars = Vec::new();
        let p = Pattern::compile("x/${aws:username}*", Wildcards::On, false, true, &mut vars);
        assert!(!p.matches("x/", &|_| None));
    }

    /// A slow, obviously correct glob matcher over characters.
    fn reference(p: &[char], s: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('*', rest)) => (0..=s.len()).any(|k| reference(rest, &s[k..])),
            Some(('?', rest)) => !s.is_empty() && reference(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && reference(rest, &s[1..]),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]
        /// Every fast path agrees with the reference matcher.
        #[test]
        fn agrees_with_reference(p in "[ab*?é]{0,8}", s in "[abé]{0,10}") {
            let mut vars = Vec::new();
            let compiled = Pattern::compile(&p, Wildcards::On, false, false, &mut vars);
            let pc: Vec<char> = p.chars().collect();
            let sc: Vec<char> = s.chars().collect();
            proptest::prop_assert_eq!(compiled.matches(&s, &|_| None), reference(&pc, &sc), "{} vs {}", p, s);
        }
    }
}
