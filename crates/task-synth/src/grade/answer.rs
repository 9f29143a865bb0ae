//! Finding the answer in a model's output: lenient about prose around it,
//! strict about the answer itself. Model output is hostile input, so it is
//! bounded before anything else looks at it.

/// Output past this many bytes is ignored.
pub(crate) const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The output cut to [`MAX_ANSWER_BYTES`] on a character boundary, NUL bytes dropped.
pub(crate) fn bounded(text: &str) -> String {
    let mut end = text.len().min(MAX_ANSWER_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].replace('\0', "")
}

/// The fenced blocks of `text` as `(info string, body)`; an unclosed last
/// fence runs to the end.
pub(crate) fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let (info, body_start) = match after.find('\n') {
            Some(nl) => (after[..nl].trim().to_lowercase(), nl + 1),
            None => break,
        };
        let body = &after[body_start..];
        match body.find("```") {
            Some(close) => {
                out.push((info, body[..close].to_string()));
                rest = &body[close + 3..];
            }
            None => {
                out.push((info, body.to_string()));
                break;
            }
        }
    }
    out
}

/// The code of the first fenced Python block (or the first unlabelled one).
pub(crate) fn python_block(text: &str) -> Option<String> {
    let blocks = fenced_blocks(text);
    blocks
        .iter()
        .find(|(info, _)| info == "python" || info == "py" || info == "python3")
        .or_else(|| blocks.iter().find(|(info, _)| info.is_empty()))
        .map(|(_, body)| body.clone())
}

/// The JSON object the answer gives: of every object found (fenced or bare,
/// JSON or a Python dict literal), the last one holding every `required`
/// key, else the first one. Text around an object is ignored.
pub(crate) fn json_object(text: &str, required: &[&str]) -> Option<serde_json::Map<String, serde_json::Value>> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices('{').take(256) {
        if let Some(map) = object_at(&text[i..]) {
            found.push(map);
        }
    }
    let complete = found.iter().rposition(|m| required.iter().all(|k| m.contains_key(*k)));
    complete.or((!found.is_empty()).then_some(0)).map(|i| found.swap_remove(i))
}

fn object_at(text: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    if let Some(Ok(serde_json::Value::Object(map))) = stream.next() {
        return Some(map);
    }
    match serde_json::from_str(&python_literal(text)?) {
        Ok(serde_json::Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// A Python dict literal at the start of `text` (single-quoted strings,
/// `True`, `False`, `None`) as JSON text; `None` when the braces never close.
fn python_literal(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                let mut value = String::new();
                loop {
                    match chars.next()? {
                        '\\' => value.push(chars.next()?),
                        q if q == c => break,
                        other => value.push(other),
                    }
                }
                out.push_str(&serde_json::to_string(&value).expect("a string serialises"));
            }
            c if c.is_ascii_alphabetic() => {
                let mut word = String::from(c);
                while let Some(&n) = chars.peek().filter(|n| n.is_ascii_alphanumeric() || **n == '_') {
                    word.push(n);
                    chars.next();
                }
                out.push_str(match word.as_str() {
                    "True" => "true",
                    "False" => "false",
                    "None" => "null",
                    w => w,
                });
            }
            '{' | '[' => {
                depth += 1;
                out.push(c);
            }
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                out.push(c);
                if depth == 0 {
                    return Some(out);
                }
            }
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_json_with_prose_around_it() {
        let m = json_object("Sure! Here it is:\n{\"line\": 4, \"kind\": \"x\"} hope this helps {", &["line"]).unwrap();
        assert_eq!(m["line"], 4);
        let m = json_object("```json\n{\"vulnerable\": false}\n```\ntrailing", &["vulnerable"]).unwrap();
        assert_eq!(m["vulnerable"], false);
        assert!(json_object("no json here { not: json", &[]).is_none());
    }

    #[test]
    fn takes_the_last_object_with_the_required_keys_and_python_dicts() {
        let text = "The schema is {\"line\": 1} for example. My answer: {\"line\": 7, \"kind\": \"is_swap\"}";
        assert_eq!(json_object(text, &["line", "kind"]).unwrap()["line"], 7);
        let m = json_object("{'vulnerable': True, 'cwe': 'CWE-78', 'line': None}", &["vulnerable"]).unwrap();
        assert_eq!(m["vulnerable"], true);
        assert!(m["line"].is_null());
        assert_eq!(json_object("{\"a\": 1} {\"b\": 2}", &["c"]).unwrap()["a"], 1);
    }

    #[test]
    fn finds_the_first_python_block() {
        let t = "text\n```python\ndef f():\n    pass\n```\n```python\nx = 1\n```";
        assert_eq!(python_block(t).unwrap(), "def f():\n    pass\n");
        assert_eq!(python_block("```\ny = 2\n").unwrap(), "y = 2\n");
    }

    #[test]
    fn bounds_hostile_output() {
        let huge = "é".repeat(MAX_ANSWER_BYTES);
        assert!(bounded(&huge).len() <= MAX_ANSWER_BYTES);
        assert_eq!(bounded("a\0b"), "ab");
    }
}
