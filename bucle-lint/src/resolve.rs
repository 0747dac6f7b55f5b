//! Name resolution through `use` declarations, so `use std::thread::sleep; sleep(d)`,
//! `use std::thread; thread::sleep(d)`, `use std::thread::sleep as nap; nap(d)`,
//! `use std::{fs, thread::{self, sleep}}` and `use std::thread::*` all name
//! `std::thread::sleep`.

use std::collections::HashMap;

/// The `use` declarations of one scope (a module, or a block that has its own `use` items).
///
/// Paths are stored absolute: a path into the crate starts with `crate`, anything else starts
/// with the external crate's name.
#[derive(Debug, Clone, Default)]
pub struct UseMap {
    names: HashMap<String, Vec<String>>,
    globs: Vec<Vec<String>>,
}

impl UseMap {
    /// Records one `use` item declared in `module` (the module's path inside the crate).
    /// `is_local` says whether a name is an item of that module, so that a 2018-style
    /// `use submodule::f;` resolves into the crate rather than to an external crate.
    pub fn add(&mut self, tree: &syn::UseTree, module: &[String], is_local: &dyn Fn(&str) -> bool) {
        self.add_tree(tree, Vec::new(), module, is_local);
    }

    fn add_tree(
        &mut self,
        tree: &syn::UseTree,
        prefix: Vec<String>,
        module: &[String],
        is_local: &dyn Fn(&str) -> bool,
    ) {
        match tree {
            syn::UseTree::Path(p) => {
                let mut prefix = prefix;
                push_segment(&mut prefix, &p.ident.to_string(), module, is_local);
                self.add_tree(&p.tree, prefix, module, is_local);
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                if name == "self" {
                    if let Some(last) = prefix.last().cloned() {
                        self.names.insert(last, prefix);
                    }
                } else {
                    let mut full = prefix;
                    push_segment(&mut full, &name, module, is_local);
                    self.names.insert(name, full);
                }
            }
            syn::UseTree::Rename(r) => {
                let name = r.ident.to_string();
                let mut full = prefix;
                if name != "self" {
                    push_segment(&mut full, &name, module, is_local);
                }
                if r.rename != "_" {
                    self.names.insert(r.rename.to_string(), full);
                }
            }
            syn::UseTree::Glob(_) => {
                if prefix.is_empty() {
                    return;
                }
                self.globs.push(prefix);
            }
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.add_tree(item, prefix.clone(), module, is_local);
                }
            }
        }
    }

    /// The absolute path a name was imported as.
    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.names.get(name).map(Vec::as_slice)
    }

    /// The absolute paths of the glob imports (`use a::b::*` gives `a::b`).
    pub fn globs(&self) -> &[Vec<String>] {
        &self.globs
    }
}

/// Appends a segment to a path being built, making the first one absolute: `crate`, `self`
/// and `super` become `crate::<module path>`, and a local item's name gets its module's path.
fn push_segment(
    path: &mut Vec<String>,
    segment: &str,
    module: &[String],
    is_local: &dyn Fn(&str) -> bool,
) {
    if !path.is_empty() {
        if segment == "super" && path.len() > 1 && path[0] == "crate" {
            path.pop();
        } else {
            path.push(segment.to_string());
        }
        return;
    }
    match segment {
        "crate" => path.push("crate".into()),
        "self" => {
            path.push("crate".into());
            path.extend(module.iter().cloned());
        }
        "super" => {
            path.push("crate".into());
            path.extend(module.iter().take(module.len().saturating_sub(1)).cloned());
        }
        name if is_local(name) => {
            path.push("crate".into());
            path.extend(module.iter().cloned());
            path.push(name.to_string());
        }
        name => path.push(name.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(src: &str, module: &[&str], locals: &[&str]) -> UseMap {
        let file: syn::File = syn::parse_str(src).unwrap();
        let module: Vec<String> = module.iter().map(|s| s.to_string()).collect();
        let mut uses = UseMap::default();
        for item in file.items {
            if let syn::Item::Use(u) = item {
                uses.add(&u.tree, &module, &|n| locals.contains(&n));
            }
        }
        uses
    }

    fn joined(uses: &UseMap, name: &str) -> Option<String> {
        uses.get(name).map(|p| p.join("::"))
    }

    #[test]
    fn every_import_form_names_the_full_path() {
        let uses = map(
            "use std::thread::sleep; use std::fs as f; use std::{net::{self, TcpStream}, \
             sync::mpsc::{channel as chan}}; use ::std::process::Command; use std::io::*;",
            &[],
            &[],
        );
        assert_eq!(
            joined(&uses, "sleep").as_deref(),
            Some("std::thread::sleep")
        );
        assert_eq!(joined(&uses, "f").as_deref(), Some("std::fs"));
        assert_eq!(joined(&uses, "net").as_deref(), Some("std::net"));
        assert_eq!(
            joined(&uses, "TcpStream").as_deref(),
            Some("std::net::TcpStream")
        );
        assert_eq!(
            joined(&uses, "chan").as_deref(),
            Some("std::sync::mpsc::channel")
        );
        assert_eq!(
            joined(&uses, "Command").as_deref(),
            Some("std::process::Command")
        );
        assert_eq!(uses.globs(), &[vec!["std".to_string(), "io".to_string()]]);
    }

    #[test]
    fn crate_self_super_and_local_modules_become_crate_paths() {
        let uses = map(
            "use crate::a::f; use self::b::g; use super::h; use sub::k; use super::super::m;",
            &["x", "y"],
            &["sub"],
        );
        assert_eq!(joined(&uses, "f").as_deref(), Some("crate::a::f"));
        assert_eq!(joined(&uses, "g").as_deref(), Some("crate::x::y::b::g"));
        assert_eq!(joined(&uses, "h").as_deref(), Some("crate::x::h"));
        assert_eq!(joined(&uses, "k").as_deref(), Some("crate::x::y::sub::k"));
        assert_eq!(joined(&uses, "m").as_deref(), Some("crate::m"));
    }
}
