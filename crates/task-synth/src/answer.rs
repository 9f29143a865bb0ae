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

/// The first JSON object in `text`: in a fenced block, or bare, with any text
/// after it ignored.
pub(crate) fn json_object(text: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let mut sources: Vec<String> = fenced_blocks(text).into_iter().map(|(_, b)| b).collect();
    sources.push(text.to_string());
    for source in &sources {
        for (i, _) in source.match_indices('{').take(64) {
            let mut stream = serde_json::Deserializer::from_str(&source[i..]).into_iter::<serde_json::Value>();
            if let Some(Ok(serde_json::Value::Object(map))) = stream.next() {
                return Some(map);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_json_with_prose_around_it() {
        let m = json_object("Sure! Here it is:\n{\"line\": 4, \"kind\": \"x\"} hope this helps {").unwrap();
        assert_eq!(m["line"], 4);
        let m = json_object("```json\n{\"vulnerable\": false}\n```\ntrailing").unwrap();
        assert_eq!(m["vulnerable"], false);
        assert!(json_object("no json here { not: json").is_none());
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
