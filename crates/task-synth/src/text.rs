//! Line arithmetic over source text, shared by synthesis (building
//! snippets and mutants) and grading (splicing answers in).

/// Dedents lines `start..=end` (1-based) of `text`.
pub(crate) fn snippet(text: &str, start: u32, end: u32) -> Vec<String> {
    let lines: Vec<&str> = text.lines().skip(start as usize - 1).take((end - start + 1) as usize).collect();
    let indent =
        lines.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    lines.iter().map(|l| l.get(indent..).unwrap_or("").trim_end().to_string()).collect()
}

/// `text` with lines `start..=end` (1-based) replaced by `new`.
pub(crate) fn replace_lines(text: &str, start: u32, end: u32, new: &[String]) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let (start, end) = (start as usize - 1, (end as usize).min(lines.len()));
    let mut out: Vec<&str> = lines[..start].to_vec();
    out.extend(new.iter().map(String::as_str));
    out.extend(&lines[end..]);
    out.join("\n") + "\n"
}

/// Line `n` (1-based) of `text`.
pub(crate) fn line(text: &str, n: u32) -> &str {
    text.lines().nth(n as usize - 1).unwrap_or_default()
}

/// The indentation `snippet` removes from lines `start..=end`.
pub(crate) fn common_indent(text: &str, start: u32, end: u32) -> usize {
    text.lines()
        .skip(start as usize - 1)
        .take((end - start + 1) as usize)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0)
}

/// Lines shown with their 1-based numbers.
pub(crate) fn numbered(lines: &[String]) -> String {
    let width = lines.len().to_string().len();
    lines.iter().enumerate().map(|(i, l)| format!("{:>width$} | {l}\n", i + 1)).collect()
}

pub(crate) fn indent_of(line: &str) -> String {
    line[..line.len() - line.trim_start().len()].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_dedents() {
        let t = "class A:\n    def f(self):\n        return 1\n";
        assert_eq!(snippet(t, 2, 3), ["def f(self):", "    return 1"]);
    }
}
