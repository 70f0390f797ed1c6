//! Where each statement of a policy document's text begins and ends.
//!
//! The parser reads a JSON tree that has forgotten where its values were
//! written, so this is a separate scan of the text: a small tokenizer walks
//! the top-level object to its `Statement` member and records the opening
//! `{` and the closing `}` of each statement object: the member's value
//! itself when it is a single object, each element when it is an array.
//! Strings are skipped with their escapes, so brackets, braces and quotes
//! inside them are text; a member name is compared after decoding its
//! escapes (`"Statem\u0065nt"` is `Statement`, as the parser reads it).
//!
//! Positions are 1-based lines and 1-based columns, and columns count
//! characters (Unicode scalar values), not bytes: `é` is one column. A line
//! ends at `\n`, at `\r\n` (one line end) or at a lone `\r`, the line ends
//! JSON allows between tokens.
//!
//! Text that is not a JSON object whose `Statement` member is an object or
//! an array of objects has no spans (`None`); the scan never panics and
//! never recurses (nesting depth costs a byte of heap each, not stack).

/// A place in a document's text: 1-based line, 1-based column counted in
/// characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TextPosition {
    pub line: usize,
    pub column: usize,
}

/// Where one statement object is written: the positions of its opening `{`
/// and of its closing `}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatementSpan {
    pub start: TextPosition,
    pub end: TextPosition,
}

/// The span of every statement of `text`, in document order (the order of
/// [`PolicyDocument::statements`](super::PolicyDocument::statements)), or
/// `None` when the text does not have that shape (see the module
/// documentation). A duplicate `Statement` member, which the parser refuses,
/// also gives `None`.
pub fn statement_spans(text: &str) -> Option<Vec<StatementSpan>> {
    let offsets = statement_offsets(text)?;
    let flat: Vec<usize> = offsets.iter().flat_map(|&(a, b)| [a, b]).collect();
    let positions = positions(text, &flat)?;
    Some(
        positions
            .chunks_exact(2)
            .map(|p| StatementSpan {
                start: p[0],
                end: p[1],
            })
            .collect(),
    )
}

/// The byte offsets of each statement's `{` and `}`.
fn statement_offsets(text: &str) -> Option<Vec<(usize, usize)>> {
    let mut s = Scanner {
        text: text.as_bytes(),
        at: 0,
    };
    s.skip_ws();
    s.expect(b'{')?;
    s.skip_ws();
    let mut statement = None;
    if s.peek() == Some(b'}') {
        return None;
    }
    loop {
        s.skip_ws();
        let (key_start, key_end) = s.string()?;
        s.skip_ws();
        s.expect(b':')?;
        s.skip_ws();
        let value_start = s.at;
        s.value()?;
        let key = text.get(key_start..=key_end)?;
        if serde_json::from_str::<String>(key).ok().as_deref() == Some("Statement") {
            if statement.is_some() {
                return None;
            }
            statement = Some(value_start);
        }
        s.skip_ws();
        match s.next()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    s.skip_ws();
    if s.at != s.text.len() {
        return None;
    }
    s.at = statement?;
    match s.peek()? {
        b'{' => Some(vec![s.value()?]),
        b'[' => {
            s.at += 1;
            let mut spans = Vec::new();
            s.skip_ws();
            if s.peek() == Some(b']') {
                return Some(spans);
            }
            loop {
                s.skip_ws();
                if s.peek()? != b'{' {
                    return None;
                }
                spans.push(s.value()?);
                s.skip_ws();
                match s.next()? {
                    b',' => continue,
                    b']' => return Some(spans),
                    _ => return None,
                }
            }
        }
        _ => None,
    }
}

/// A cursor over the text's bytes. Every byte JSON gives meaning to is
/// ASCII, and no byte of a multi-byte UTF-8 character is ASCII, so working
/// on bytes never splits a character that matters.
struct Scanner<'a> {
    text: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn expect(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// A string starting here: the offsets of its opening and closing
    /// quotes. After a backslash the next byte is never a delimiter
    /// (`\"`, `\\`; a `\u` escape's hex digits are never quotes).
    fn string(&mut self) -> Option<(usize, usize)> {
        let start = self.at;
        self.expect(b'"')?;
        loop {
            match self.next()? {
                b'"' => return Some((start, self.at - 1)),
                b'\\' => {
                    self.next()?;
                }
                _ => {}
            }
        }
    }

    /// Skip one value starting here: the offsets of its first and last byte.
    /// Nested containers are matched with a stack of expected closers.
    fn value(&mut self) -> Option<(usize, usize)> {
        let start = self.at;
        match self.peek()? {
            b'"' => self.string(),
            b'{' | b'[' => {
                let mut closers = Vec::new();
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' => closers.push(b'}'),
                        b'[' => closers.push(b']'),
                        c @ (b'}' | b']') => {
                            if closers.pop()? != c {
                                return None;
                            }
                            if closers.is_empty() {
                                self.at += 1;
                                return Some((start, self.at - 1));
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
            }
            _ => {
                // A number, `true`, `false` or `null`: up to the next delimiter.
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b'"' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.at += 1;
                }
                (self.at > start).then(|| (start, self.at - 1))
            }
        }
    }
}

/// The line and column of each byte offset; `offsets` ascending, each at a
/// character boundary (the text's end included). `None` when some offset
/// is not found.
pub(super) fn positions(text: &str, offsets: &[usize]) -> Option<Vec<TextPosition>> {
    let mut out = Vec::with_capacity(offsets.len());
    let mut wanted = offsets.iter().copied().peekable();
    let (mut line, mut column) = (1, 1);
    let mut after_cr = false;
    for (i, c) in text.char_indices() {
        while wanted.next_if_eq(&i).is_some() {
            out.push(TextPosition { line, column });
        }
        if wanted.peek().is_none() {
            break;
        }
        match c {
            // The `\n` of `\r\n`: the line already ended at the `\r`.
            '\n' if after_cr => after_cr = false,
            '\n' | '\r' => {
                line += 1;
                column = 1;
                after_cr = c == '\r';
            }
            _ => {
                column += 1;
                after_cr = false;
            }
        }
    }
    while wanted.next_if_eq(&text.len()).is_some() {
        out.push(TextPosition { line, column });
    }
    (out.len() == offsets.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: usize, column: usize) -> TextPosition {
        TextPosition { line, column }
    }

    fn span(a: (usize, usize), b: (usize, usize)) -> StatementSpan {
        StatementSpan {
            start: pos(a.0, a.1),
            end: pos(b.0, b.1),
        }
    }

    /// The spans of every statement the parser accepts, one per statement.
    fn spans_of_valid(text: &str) -> Vec<StatementSpan> {
        let doc = super::super::PolicyDocument::parse(text).expect("a valid document");
        let spans = statement_spans(text).expect("spans");
        assert_eq!(spans.len(), doc.statements().len(), "{text}");
        spans
    }

    #[test]
    fn a_single_line_document_with_a_single_object_statement() {
        // AWS's example document (CLI reference, simulate-custom-policy):
        // the statement's `{` is character 37 and its `}` character 166.
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}"#;
        assert_eq!(spans_of_valid(text), [span((1, 37), (1, 166))]);
    }

    #[test]
    fn a_multi_line_document_with_an_array() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"A\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:*\",\n      \"Resource\": \"*\"\n    },\n    {\"Effect\": \"Deny\", \"Action\": \"s3:Delete*\", \"Resource\": \"*\"}\n  ]\n}\n";
        assert_eq!(
            spans_of_valid(text),
            [span((4, 5), (9, 5)), span((10, 5), (10, 63))]
        );
    }

    #[test]
    fn strings_with_brackets_braces_and_escaped_quotes_are_text() {
        let text = r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/{x}[y]\"}]\\","Condition":{"StringLike":{"s3:prefix":["}\\\"{","[","]]"]}}},{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
        let spans = spans_of_valid(text);
        let second = text.find(r#"{"Effect":"Deny""#).expect("second statement");
        assert_eq!(spans[0].start, pos(1, 15));
        assert_eq!(spans[0].end, pos(1, second - 1));
        assert_eq!(spans[1], span((1, second + 1), (1, text.len() - 2)));
    }

    #[test]
    fn columns_count_characters_and_line_ends_are_any_of_lf_crlf_cr() {
        let text = "{\"Id\":\"é€😀\",\"Statement\":{\"Sid\":\"ü\",\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}";
        // `{"Id":"é€😀","Statement":` is 24 characters (30 bytes).
        assert_eq!(spans_of_valid(text), [span((1, 25), (1, 80))]);
        let text = "{\r\n\"Statement\":\r[\r\n{\"Effect\":\"Allow\",\"Action\":\"*\",\r\"Resource\":\"*\"}]}";
        assert_eq!(spans_of_valid(text), [span((4, 1), (5, 15))]);
    }

    #[test]
    fn other_members_and_escaped_member_names() {
        // Members before and after `Statement`, holding containers and
        // strings that look like a statement.
        let text = r#"{"Id":"{\"Statement\":[{}]}","Statem\u0065nt":[{"Effect":"Allow","Action":"*","Resource":"*"}],"Version":"2012-10-17"}"#;
        let at = text.find(r#"[{"Effect""#).expect("array");
        assert_eq!(spans_of_valid(text), [span((1, at + 2), (1, at + 47))]);
    }

    #[test]
    fn text_without_statements_has_no_spans_and_never_panics() {
        for text in [
            "",
            "   ",
            "[]",
            "{}",
            "{",
            r#"{"Statement""#,
            r#"{"Statement":"#,
            r#"{"Statement":"x"}"#,
            r#"{"Statement":[1]}"#,
            r#"{"Statement":[{}],}"#,
            r#"{"Statement":[{},]}"#,
            r#"{"Statement":[{]}"#,
            r#"{"Statement":[{"a":"}]}"#,
            r#"{"Statement":[{"a":"\"}]}"#,
            r#"{"Statement":{}} x"#,
            r#"{"Statement":{},"Statement":{}}"#,
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Statement":[{}]"#,
            r#"{"Statement" [{}]}"#,
            r#"{"Statement":[{}] "Id":"x"}"#,
            "{\"Statement\":[{\"a\":\"\\",
            "{\"Statement\":[{\"é\":\"\u{0}\"}\"",
        ] {
            assert_eq!(statement_spans(text), None, "{text:?}");
        }
        // Nesting far deeper than any parser allows costs heap, not stack.
        let deep = format!(
            r#"{{"Statement":{}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(statement_spans(&deep), None);
        let deep = format!(
            r#"{{"Statement":{{"a":{}{}}}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(
            statement_spans(&deep),
            Some(vec![span((1, 14), (1, 200_019))])
        );
        assert_eq!(statement_spans(r#"{"Statement":[]}"#), Some(Vec::new()));
    }

    /// The character at a position (lines split as the scan splits them).
    fn char_at(text: &str, p: TextPosition) -> Option<char> {
        let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
        normalized
            .split('\n')
            .nth(p.line - 1)?
            .chars()
            .nth(p.column - 1)
    }

    proptest::proptest! {
        /// Documents written compactly or pretty-printed, with resources full
        /// of JSON's delimiters: each span starts at a `{` and ends at a `}`,
        /// one span per statement, and the statement there is the one parsed.
        #[test]
        fn spans_point_at_each_statements_braces(
            resources in proptest::collection::vec("[{}\\[\\]\"\\\\:,a-zé😀\n]{0,12}", 1..5),
            pretty: bool,
            single: bool,
        ) {
            let statements: Vec<serde_json::Value> = resources
                .iter()
                .map(|r| serde_json::json!({"Effect": "Allow", "Action": "s3:*", "Resource": format!("arn:{r}")}))
                .collect();
            let statement = if single {
                statements[0].clone()
            } else {
                serde_json::Value::Array(statements)
            };
            let doc = serde_json::json!({"Version": "2012-10-17", "Statement": statement});
            let text = if pretty {
                serde_json::to_string_pretty(&doc).expect("json")
            } else {
                serde_json::to_string(&doc).expect("json")
            };
            let parsed = super::super::PolicyDocument::parse(&text).expect("valid");
            let spans = statement_spans(&text).expect("spans");
            proptest::prop_assert_eq!(spans.len(), parsed.statements().len());
            for s in spans {
                proptest::prop_assert_eq!(char_at(&text, s.start), Some('{'));
                proptest::prop_assert_eq!(char_at(&text, s.end), Some('}'));
            }
        }

        /// Any text: no panic, and spans only where the text has braces.
        #[test]
        fn any_text_is_scanned_without_panicking(text in "\\PC{0,80}|[\\[\\]{}\":,\\\\ \\n\\rSa-z0-9é]{0,80}") {
            if let Some(spans) = statement_spans(&text) {
                for s in spans {
                    proptest::prop_assert!(s.start < s.end);
                }
            }
        }
    }
}
