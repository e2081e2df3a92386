//! Whether untrusted content is free text, judged from its shape: the columns a query selects,
//! the field a value is read from.
//!
//! Rows of a database and fields of a fetched document are untrusted content, but only free
//! text (a ticket's body, a page, a comment) can carry instructions to the model; an id, a
//! count, a status or a timestamp cannot. Judged from names, so it errs towards free text:
//! `SELECT *`, a query it cannot read, or a column it does not know as structured all count as
//! free text.

/// Words that, in a column or field name, mean text someone wrote.
const FREE_TEXT: &[&str] = &[
    "body",
    "text",
    "content",
    "description",
    "desc",
    "comment",
    "message",
    "msg",
    "subject",
    "title",
    "note",
    "insight",
    "summary",
    "bio",
    "review",
    "html",
    "markdown",
    "payload",
    "snippet",
    "excerpt",
    "answer",
    "question",
    "prompt",
    "instruction",
    "memo",
    "post",
    "reply",
    "caption",
    "transcript",
    "raw",
    "data",
    "value",
    "output",
    "log",
    "name",
];

/// Words that, as the last word of a column or field name, mean an id, a number, a state or a
/// date.
const STRUCTURED: &[&str] = &[
    "id",
    "ids",
    "key",
    "number",
    "num",
    "count",
    "total",
    "size",
    "length",
    "status",
    "state",
    "code",
    "url",
    "uri",
    "login",
    "username",
    "email",
    "at",
    "date",
    "time",
    "timestamp",
    "created",
    "updated",
    "version",
    "sha",
    "hash",
    "etag",
    "type",
    "kind",
    "lat",
    "lon",
    "lng",
    "latitude",
    "longitude",
    "price",
    "amount",
    "stock",
    "quantity",
    "score",
    "rank",
    "day",
    "month",
    "year",
    "ok",
    "success",
    "tag",
    "tags",
    "category",
];

/// Catalog tables: what they hold are the names and types of the database's own objects.
const CATALOGS: &[&str] = &[
    "information_schema.",
    "sqlite_master",
    "sqlite_schema",
    "pg_catalog.",
    "pg_tables",
    "pg_stat",
];

/// Whether a SQL statement reads rows (as opposed to changing them).
pub fn reads_rows(sql: &str) -> bool {
    let first = first_word(sql);
    matches!(
        first.as_str(),
        "SELECT" | "WITH" | "PRAGMA" | "SHOW" | "EXPLAIN" | "DESCRIBE" | "VALUES"
    )
}

/// Whether text reads as a SQL statement that reads or changes rows.
pub fn is_sql(text: &str) -> bool {
    reads_rows(text) || matches!(first_word(text).as_str(), "INSERT" | "UPDATE" | "DELETE")
}

/// Whether the rows a statement returns hold only structured values: metadata (`PRAGMA`,
/// `EXPLAIN`, `SHOW`), aggregates, or columns whose names say they are ids, numbers, states or
/// dates. Holes (`?`) in the column list are unknown columns unless aliased.
pub fn query_is_structured(sql: &str) -> bool {
    let first = first_word(sql);
    match first.as_str() {
        "PRAGMA" | "EXPLAIN" | "SHOW" | "DESCRIBE" => return true,
        "SELECT" => {}
        // Writes return nothing but counts and ids; anything else is unread.
        "INSERT" | "UPDATE" | "DELETE" => return !sql.to_ascii_lowercase().contains("returning"),
        _ => return false,
    }
    let lower = sql.to_ascii_lowercase();
    if CATALOGS.iter().any(|c| lower.contains(c)) {
        return true;
    }
    let Some(columns) = select_list(sql) else {
        return false;
    };
    split_top_level(columns)
        .iter()
        .all(|column| column_is_structured(column))
}

/// Whether a field read by name from untrusted content (`item["id"]`, `row.status`) holds a
/// structured value rather than free text, judged by its last word (`html_url` is a URL,
/// `body_html` is text, `commentCount` a number).
pub fn field_is_structured(name: &str) -> bool {
    let words = words(name);
    match words.last() {
        Some(last) if FREE_TEXT.contains(&last.as_str()) => false,
        Some(last) => STRUCTURED.contains(&last.as_str()),
        None => false,
    }
}

fn column_is_structured(column: &str) -> bool {
    let column = column.trim();
    let lower = column.to_ascii_lowercase();
    // `count(*)`, `sum(total) AS revenue`: aggregates are numbers whatever they are named.
    if ["count(", "sum(", "avg(", "min(", "max(", "total("]
        .iter()
        .any(|f| lower.starts_with(f))
    {
        return true;
    }
    if column == "*" || column.ends_with(".*") {
        return false;
    }
    // The name the value is known by: the alias, or the last part of a dotted column.
    let name = match lower.rsplit_once(" as ") {
        Some((_, alias)) => alias.trim(),
        None if column.contains('?') => return false,
        None => lower.rsplit('.').next().unwrap_or(&lower).trim(),
    };
    let name = name.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'));
    field_is_structured(name)
}

/// The text between `SELECT [DISTINCT]` and the top-level `FROM` (or the end).
fn select_list(sql: &str) -> Option<&str> {
    let trimmed = sql.trim_start();
    let rest = trimmed.get(6..)?;
    let rest = rest.trim_start();
    let rest = match rest.get(..9) {
        Some(p) if p.eq_ignore_ascii_case("distinct ") => &rest[9..],
        _ => rest,
    };
    // `from` as a word at nesting depth zero ends the column list; whitespace before it may
    // be a space or a line break.
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if depth == 0 && c.is_whitespace() => {
                let word = rest[i + 1..].get(..5);
                if word.is_some_and(|w| w.eq_ignore_ascii_case("from ")) {
                    return Some(&rest[..i]);
                }
            }
            _ => {}
        }
    }
    Some(rest)
}

fn split_top_level(list: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in list.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&list[start..]);
    out
}

fn first_word(sql: &str) -> String {
    sql.trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}

/// `created_at` -> `created`, `at`; `htmlUrl` -> `html`, `url`; lowercase.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        let boundary = !c.is_ascii_alphanumeric() || (c.is_ascii_uppercase() && prev_lower);
        if boundary && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_that_return_free_text() {
        for sql in [
            "SELECT * FROM ? LIMIT 10",
            "SELECT id, subject, body FROM support.tickets WHERE x = 1",
            "SELECT insight FROM memos ORDER BY id",
            "SELECT t.* FROM t",
            "SELECT ? FROM t",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "SELECT name, description FROM products",
            "SELECT id, name FROM products",
        ] {
            assert!(reads_rows(sql), "{sql}");
            assert!(!query_is_structured(sql), "{sql}");
        }
    }

    #[test]
    fn queries_that_return_structured_rows() {
        for sql in [
            "SELECT id, total, status, created_at FROM orders WHERE customer_id = %s",
            "SELECT COUNT(*) FROM \"?\"",
            "PRAGMA table_info(?)",
            "EXPLAIN SELECT * FROM t",
            "SHOW server_version",
            "SELECT day, ? AS amount FROM analytics.daily",
            "SELECT DISTINCT user_id, count(*) AS n_orders FROM orders GROUP BY user_id",
            "select o.id, o.price from orders o",
            "SELECT name FROM sqlite_master WHERE type='table'",
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
        ] {
            assert!(query_is_structured(sql), "{sql}");
        }
        assert!(!reads_rows("INSERT INTO memos (insight) VALUES (?)"));
    }

    #[test]
    fn fields() {
        for f in [
            "id",
            "html_url",
            "htmlUrl",
            "created_at",
            "key",
            "status",
            "login",
            "stock",
            "commentCount",
        ] {
            assert!(field_is_structured(f), "{f}");
        }
        for f in [
            "body",
            "summary",
            "name",
            "description",
            "title_id_text",
            "body_html",
            "",
            "fields",
        ] {
            assert!(!field_is_structured(f), "{f}");
        }
    }
}
