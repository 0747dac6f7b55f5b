//! Source files: reading a crate's module tree from its root, and the
//! `// bucle-lint: allow(blocking_call)` comments in each file.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::Error;

/// One parsed file of a crate.
pub struct SourceFile {
    /// Where the file is on disk.
    pub path: PathBuf,
    /// The path as diagnostics print it.
    pub display: String,
    /// The file's text.
    pub text: String,
    /// The syntax tree.
    pub ast: syn::File,
    /// The module this file is, inside its crate (`[]` for the crate root).
    pub module: Vec<String>,
    /// Lines silenced by an allow comment, 1-based, with the comment's reason.
    pub allowed_lines: HashMap<usize, String>,
}

impl SourceFile {
    /// Parses one file as module `module` of its crate.
    pub fn parse(
        path: &Path,
        display: String,
        text: String,
        module: Vec<String>,
    ) -> Result<SourceFile, Error> {
        let ast = syn::parse_file(&text).map_err(|e| {
            let at = e.span().start();
            Error::Parse(format!("{}:{}:{}: {e}", display, at.line, at.column + 1))
        })?;
        let allowed_lines = allow_comments(&text);
        Ok(SourceFile {
            path: path.to_path_buf(),
            display,
            text,
            ast,
            module,
            allowed_lines,
        })
    }

    /// The text of a 1-based line, without its line break.
    pub fn line(&self, line: usize) -> &str {
        self.text.lines().nth(line.saturating_sub(1)).unwrap_or("")
    }
}

const ALLOW_MARK: &str = "bucle-lint: allow(blocking_call)";

/// Finds `// bucle-lint: allow(blocking_call) <reason>` comments. A comment after code
/// silences its own line; a comment on a line of its own silences the next line of code
/// (past further comments and one-line attributes), which may be a statement's or an item's
/// first line.
fn allow_comments(text: &str) -> HashMap<usize, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut allowed = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(mark_at) = line.find(ALLOW_MARK) else {
            continue;
        };
        let Some(comment_at) = line[..mark_at].rfind("//") else {
            continue;
        };
        if !line[comment_at + 2..mark_at]
            .trim_start_matches('/')
            .trim()
            .is_empty()
        {
            continue;
        }
        let rest = &line[mark_at + ALLOW_MARK.len()..];
        let reason = rest
            .trim()
            .trim_start_matches([':', '-', '\u{2014}', ','])
            .trim()
            .to_string();
        let reason = if reason.is_empty() {
            "no reason given".to_string()
        } else {
            reason
        };
        if !line[..comment_at].trim().is_empty() {
            allowed.insert(i + 1, reason);
            continue;
        }
        let next_code = (i + 1..lines.len()).find(|&j| {
            let l = lines[j].trim();
            !(l.is_empty() || l.starts_with("//") || (l.starts_with("#[") && l.ends_with(']')))
        });
        if let Some(j) = next_code {
            allowed.insert(j + 1, reason);
        }
    }
    allowed
}

/// How a crate's files are read: whether `#[cfg(test)]` modules count.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Follow `#[cfg(test)] mod tests;` and lint `#[cfg(test)]` items.
    pub include_tests: bool,
}

/// Reads a crate from its root file, following `mod name;` declarations to their files
/// (`name.rs` or `name/mod.rs`, or a `#[path]`). A declared module whose file is missing is
/// skipped (it is usually behind a `cfg` for another platform).
pub fn load_crate(
    root: &Path,
    options: LoadOptions,
    display: &dyn Fn(&Path) -> String,
) -> Result<Vec<SourceFile>, Error> {
    let mut files = Vec::new();
    let text = read(root)?;
    let file = SourceFile::parse(root, display(root), text, Vec::new())?;
    let dir = root.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut pending = Vec::new();
    collect_mod_decls(&file.ast.items, &dir, &[], options, &mut pending);
    files.push(file);
    while let Some((path, module)) = pending.pop() {
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let file = SourceFile::parse(&path, display(&path), text, module.clone())?;
        let is_mod_rs = path.file_name().is_some_and(|n| n == "mod.rs");
        let parent = path.parent().unwrap_or(Path::new(""));
        let dir = if is_mod_rs {
            parent.to_path_buf()
        } else {
            parent.join(path.file_stem().unwrap_or_default())
        };
        collect_mod_decls(&file.ast.items, &dir, &module, options, &mut pending);
        files.push(file);
    }
    Ok(files)
}

pub(crate) fn read(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))
}

/// Queues the files of the `mod name;` declarations among `items`, descending into inline
/// modules (whose own declarations live one directory further down).
fn collect_mod_decls(
    items: &[syn::Item],
    dir: &Path,
    module: &[String],
    options: LoadOptions,
    pending: &mut Vec<(PathBuf, Vec<String>)>,
) {
    for item in items {
        let syn::Item::Mod(m) = item else { continue };
        if !options.include_tests && is_cfg_test(&m.attrs) {
            continue;
        }
        let name = m.ident.to_string();
        let mut sub = module.to_vec();
        sub.push(name.clone());
        match &m.content {
            Some((_, inner)) => {
                collect_mod_decls(inner, &dir.join(&name), &sub, options, pending);
            }
            None => {
                let path = path_attr(&m.attrs).map(|p| dir.join(p)).or_else(|| {
                    [
                        dir.join(format!("{name}.rs")),
                        dir.join(&name).join("mod.rs"),
                    ]
                    .into_iter()
                    .find(|p| p.is_file())
                });
                if let Some(path) = path {
                    pending.push((path, sub));
                }
            }
        }
    }
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| {
        if !a.path().is_ident("path") {
            return None;
        }
        let syn::Meta::NameValue(nv) = &a.meta else {
            return None;
        };
        match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        }
    })
}

/// `#[cfg(test)]`, alone or inside `all(..)`.
pub fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && {
            let tokens = match &a.meta {
                syn::Meta::List(l) => l.tokens.to_string(),
                _ => String::new(),
            };
            tokens == "test"
                || (tokens.starts_with("all") && tokens.contains("test") && !tokens.contains("not"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_comments_silence_their_line_or_the_next_line_of_code() {
        let text = "fn a() {}\n\
                    // bucle-lint: allow(blocking_call) startup only\n\
                    #[inline]\n\
                    fn b() {}\n\
                    let x = 1; // bucle-lint: allow(blocking_call): a demo\n\
                    // bucle-lint: allow(blocking_call)\n\
                    \n\
                    call();\n";
        let allowed = allow_comments(text);
        assert_eq!(allowed.get(&4).map(String::as_str), Some("startup only"));
        assert_eq!(allowed.get(&5).map(String::as_str), Some("a demo"));
        assert_eq!(allowed.get(&8).map(String::as_str), Some("no reason given"));
        assert_eq!(allowed.len(), 3);
    }

    #[test]
    fn other_lints_in_the_comment_silence_nothing() {
        assert!(allow_comments("// bucle-lint: allow(other)\ncall();\n").is_empty());
    }
}
