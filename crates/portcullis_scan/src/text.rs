//! Small text helpers shared by rules that read names.

/// The words of a name, split on separators and camelCase humps, lower-cased: `writeFile`,
/// `write_file`, `write-file` and `Write File` are all `["write", "file"]`.
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_every_style() {
        for name in ["writeFile", "write_file", "write-file", "Write File"] {
            assert_eq!(super::words(name), ["write", "file"]);
        }
    }
}
