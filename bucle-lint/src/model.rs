//! The crate as the lint sees it before reading any function body: each module's items and
//! `use` declarations, every function (so a call can be followed to its definition), the
//! declared types of struct fields and statics.

use std::collections::{HashMap, HashSet};

use crate::resolve::UseMap;
use crate::source::{is_cfg_test, SourceFile};
use crate::table;
use crate::types::Ty;

/// Index of a function in [`Model::fns`].
pub type FnId = usize;

/// How a call names a function inside the crate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FnKey {
    /// A free function: its module's path and its name.
    Free(Vec<String>, String),
    /// A method or associated function: its type's (or trait's) name and its name.
    Method(String, String),
}

/// A function defined in the crate.
#[derive(Debug, Clone)]
pub struct FnDef {
    /// How notes name it: `fn load`, `async fn handle`, `fn Config::load`.
    pub display: String,
    /// Its body is async context of its own.
    pub is_async: bool,
}

/// One module's names.
#[derive(Debug, Default)]
pub struct ModuleInfo {
    /// Every item name declared in the module (functions, types, modules, statics).
    pub items: HashSet<String>,
    /// The module's `use` declarations.
    pub uses: UseMap,
    /// Statics and consts with a type the lint understands (`static M: Mutex<u32>`).
    pub statics: HashMap<String, Ty>,
}

/// Everything known about the crate before its bodies are read.
#[derive(Debug, Default)]
pub struct Model {
    pub modules: HashMap<Vec<String>, ModuleInfo>,
    pub fns: Vec<FnDef>,
    pub by_key: HashMap<FnKey, Vec<FnId>>,
    /// Functions by the file and position of their name, so the body walk finds its own id.
    pub by_site: HashMap<(usize, usize, usize), FnId>,
    /// Struct fields' declared types, by struct name and field name.
    pub fields: HashMap<(String, String), Ty>,
    /// Names of the crate's own structs, enums and traits.
    pub local_types: HashSet<String>,
}

/// Where a path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Outside the crate, canonical (`std::thread::sleep`).
    External(String),
    /// Inside the crate, absolute without the leading `crate` (`["net", "connect"]`).
    Local(Vec<String>),
    /// `Self::name`.
    SelfItem(String),
    /// A single name that is neither imported nor declared: a local variable, the prelude.
    Unknown,
}

impl Model {
    /// Builds the model of a crate from its files.
    pub fn build(files: &[SourceFile], include_tests: bool) -> Model {
        let mut model = Model::default();
        // Names first: a `use` can only be told local or external once every module's items
        // are known.
        for file in files {
            model.collect_names(&file.ast.items, &file.module, include_tests);
        }
        for file in files {
            model.collect_uses(&file.ast.items, &file.module, include_tests);
        }
        for (index, file) in files.iter().enumerate() {
            model.collect_defs(index, &file.ast.items, &file.module, include_tests);
        }
        model
    }

    fn collect_names(&mut self, items: &[syn::Item], module: &[String], tests: bool) {
        let info = self.modules.entry(module.to_vec()).or_default();
        let mut inline = Vec::new();
        for item in items {
            if !tests && is_cfg_test(item_attrs(item)) {
                continue;
            }
            let name = match item {
                syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
                syn::Item::Struct(s) => {
                    self.local_types.insert(s.ident.to_string());
                    Some(s.ident.to_string())
                }
                syn::Item::Enum(e) => {
                    self.local_types.insert(e.ident.to_string());
                    Some(e.ident.to_string())
                }
                syn::Item::Trait(t) => {
                    self.local_types.insert(t.ident.to_string());
                    Some(t.ident.to_string())
                }
                syn::Item::Type(t) => Some(t.ident.to_string()),
                syn::Item::Static(s) => Some(s.ident.to_string()),
                syn::Item::Const(c) => Some(c.ident.to_string()),
                syn::Item::Mod(m) => {
                    if let Some((_, content)) = &m.content {
                        inline.push((m.ident.to_string(), content));
                    }
                    Some(m.ident.to_string())
                }
                _ => None,
            };
            if let Some(name) = name {
                info.items.insert(name);
            }
        }
        for (name, content) in inline {
            let mut sub = module.to_vec();
            sub.push(name);
            self.collect_names(content, &sub, tests);
        }
    }

    fn collect_uses(&mut self, items: &[syn::Item], module: &[String], tests: bool) {
        let mut uses = UseMap::default();
        {
            let info = &self.modules[module];
            for item in items {
                if let syn::Item::Use(u) = item {
                    uses.add(&u.tree, module, &|n| info.items.contains(n));
                }
            }
        }
        self.modules
            .get_mut(module)
            .expect("names collected first")
            .uses = uses;
        for item in items {
            if let syn::Item::Mod(m) = item {
                if !tests && is_cfg_test(&m.attrs) {
                    continue;
                }
                if let Some((_, content)) = &m.content {
                    let mut sub = module.to_vec();
                    sub.push(m.ident.to_string());
                    self.collect_uses(content, &sub, tests);
                }
            }
        }
    }

    fn collect_defs(&mut self, file: usize, items: &[syn::Item], module: &[String], tests: bool) {
        for item in items {
            if !tests && is_cfg_test(item_attrs(item)) {
                continue;
            }
            match item {
                syn::Item::Fn(f) => {
                    let name = f.sig.ident.to_string();
                    self.add_fn(
                        file,
                        &f.sig,
                        FnKey::Free(module.to_vec(), name.clone()),
                        name,
                    );
                }
                syn::Item::Impl(imp) => {
                    let Some(ty_name) = type_name(&imp.self_ty) else {
                        continue;
                    };
                    for it in &imp.items {
                        if let syn::ImplItem::Fn(f) = it {
                            if !tests && is_cfg_test(&f.attrs) {
                                continue;
                            }
                            let name = f.sig.ident.to_string();
                            let display = format!("{ty_name}::{name}");
                            self.add_fn(
                                file,
                                &f.sig,
                                FnKey::Method(ty_name.clone(), name),
                                display,
                            );
                        }
                    }
                }
                syn::Item::Trait(t) => {
                    let ty_name = t.ident.to_string();
                    for it in &t.items {
                        if let syn::TraitItem::Fn(f) = it {
                            if f.default.is_none() {
                                continue;
                            }
                            let name = f.sig.ident.to_string();
                            let display = format!("{ty_name}::{name}");
                            self.add_fn(
                                file,
                                &f.sig,
                                FnKey::Method(ty_name.clone(), name),
                                display,
                            );
                        }
                    }
                }
                syn::Item::Struct(s) => {
                    let ty_name = s.ident.to_string();
                    for field in &s.fields {
                        let Some(ident) = &field.ident else { continue };
                        if let Some(ty) = self.resolve_type(&field.ty, module, &[]) {
                            self.fields.insert((ty_name.clone(), ident.to_string()), ty);
                        }
                    }
                }
                syn::Item::Static(s) => {
                    if let Some(ty) = self.resolve_type(&s.ty, module, &[]) {
                        let info = self.modules.get_mut(module).expect("module collected");
                        info.statics.insert(s.ident.to_string(), ty);
                    }
                }
                syn::Item::Mod(m) => {
                    if let Some((_, content)) = &m.content {
                        let mut sub = module.to_vec();
                        sub.push(m.ident.to_string());
                        self.collect_defs(file, content, &sub, tests);
                    }
                }
                _ => {}
            }
        }
    }

    fn add_fn(&mut self, file: usize, sig: &syn::Signature, key: FnKey, display: String) -> FnId {
        let id = self.add_def(key, display, sig.asyncness.is_some());
        let at = sig.ident.span().start();
        self.by_site.insert((file, at.line, at.column), id);
        id
    }

    /// Registers a function (also used for `fn` items nested in bodies).
    pub fn add_def(&mut self, key: FnKey, display: String, is_async: bool) -> FnId {
        let id = self.fns.len();
        let prefix = if is_async { "async fn" } else { "fn" };
        self.fns.push(FnDef {
            display: format!("{prefix} {display}"),
            is_async,
        });
        self.by_key.entry(key).or_default().push(id);
        id
    }

    /// Resolves a path written in `module`, with `blocks` the `use` maps of the enclosing
    /// blocks (innermost last).
    pub fn resolve(&self, segments: &[String], module: &[String], blocks: &[UseMap]) -> Resolved {
        let Some(first) = segments.first() else {
            return Resolved::Unknown;
        };
        let rest = &segments[1..];
        let local = |mut base: Vec<String>| {
            base.extend(rest.iter().cloned());
            Resolved::Local(base)
        };
        match first.as_str() {
            "crate" => return local(Vec::new()),
            "self" => return local(module.to_vec()),
            "super" => return self.resolve_super(segments, module),
            "Self" if rest.len() == 1 => return Resolved::SelfItem(rest[0].clone()),
            _ => {}
        }
        let info = self.modules.get(module);
        let imported = blocks
            .iter()
            .rev()
            .find_map(|u| u.get(first))
            .or_else(|| info.and_then(|i| i.uses.get(first)));
        if let Some(full) = imported {
            let mut path: Vec<String> = full.to_vec();
            path.extend(rest.iter().cloned());
            return absolute(path);
        }
        if info.is_some_and(|i| i.items.contains(first)) {
            let mut path = module.to_vec();
            path.extend(segments.iter().cloned());
            return Resolved::Local(path);
        }
        if rest.is_empty() {
            let globs = blocks
                .iter()
                .rev()
                .flat_map(|u| u.globs())
                .chain(info.map(|i| i.uses.globs()).unwrap_or(&[]));
            for glob in globs {
                if glob[0] == "crate" {
                    let target = &glob[1..];
                    if self
                        .modules
                        .get(target)
                        .is_some_and(|m| m.items.contains(first))
                    {
                        let mut path = target.to_vec();
                        path.push(first.clone());
                        return Resolved::Local(path);
                    }
                } else {
                    let candidate = table::canonical(&format!("{}::{first}", glob.join("::")));
                    if table::known_glob_target(&candidate) {
                        return Resolved::External(candidate);
                    }
                }
            }
            return Resolved::Unknown;
        }
        Resolved::External(table::canonical(&segments.join("::")))
    }

    fn resolve_super(&self, segments: &[String], module: &[String]) -> Resolved {
        let mut base = module.to_vec();
        let mut rest = segments;
        while let Some(("super", tail)) = rest.split_first().map(|(h, t)| (h.as_str(), t)) {
            base.pop();
            rest = tail;
        }
        base.extend(rest.iter().cloned());
        Resolved::Local(base)
    }

    /// The type a `syn::Type` names, if the lint understands it: external types by canonical
    /// path, the crate's own structs by name; `&T`, `Arc<T>`, `Rc<T>` and `Box<T>` as `T`.
    pub fn resolve_type(&self, ty: &syn::Type, module: &[String], blocks: &[UseMap]) -> Option<Ty> {
        match ty {
            syn::Type::Reference(r) => self.resolve_type(&r.elem, module, blocks),
            syn::Type::Paren(p) => self.resolve_type(&p.elem, module, blocks),
            syn::Type::Group(g) => self.resolve_type(&g.elem, module, blocks),
            syn::Type::Tuple(t) => Some(Ty::Tuple(
                t.elems
                    .iter()
                    .map(|e| self.resolve_type(e, module, blocks))
                    .collect(),
            )),
            syn::Type::Path(p) if p.qself.is_none() => {
                let segments: Vec<String> = p
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                let first_arg = || {
                    let last = p.path.segments.last()?;
                    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                        return None;
                    };
                    args.args.iter().find_map(|a| match a {
                        syn::GenericArgument::Type(t) => Some(t),
                        _ => None,
                    })
                };
                let name = match self.resolve(&segments, module, blocks) {
                    Resolved::External(path) => path,
                    Resolved::Local(path) => {
                        let last = path.last()?;
                        return self
                            .local_types
                            .contains(last)
                            .then(|| Ty::Local(last.clone()));
                    }
                    Resolved::SelfItem(_) => return None,
                    Resolved::Unknown => segments.join("::"),
                };
                if table::is_transparent_wrapper(&name) {
                    return self.resolve_type(first_arg()?, module, blocks);
                }
                if table::is_fallible_wrapper(&name) {
                    let inner = self.resolve_type(first_arg()?, module, blocks)?;
                    return Some(Ty::Fallible(Box::new(inner)));
                }
                if segments.len() == 1 && self.local_types.contains(&segments[0]) {
                    return Some(Ty::Local(segments[0].clone()));
                }
                name.contains("::").then_some(Ty::Path(name))
            }
            _ => None,
        }
    }

    /// The functions a resolved call path may name.
    pub fn lookup(&self, resolved: &Resolved, impl_ty: Option<&str>) -> &[FnId] {
        let key = match resolved {
            Resolved::Local(path) => {
                let Some((name, module)) = path.split_last() else {
                    return &[];
                };
                let free = FnKey::Free(module.to_vec(), name.clone());
                if let Some(ids) = self.by_key.get(&free) {
                    return ids;
                }
                match module.last() {
                    Some(ty) if self.local_types.contains(ty) => {
                        FnKey::Method(ty.clone(), name.clone())
                    }
                    _ => return &[],
                }
            }
            Resolved::SelfItem(name) => match impl_ty {
                Some(ty) => FnKey::Method(ty.to_string(), name.clone()),
                None => return &[],
            },
            _ => return &[],
        };
        self.by_key.get(&key).map(Vec::as_slice).unwrap_or(&[])
    }
}

fn absolute(path: Vec<String>) -> Resolved {
    if path.first().is_some_and(|s| s == "crate") {
        Resolved::Local(path[1..].to_vec())
    } else {
        Resolved::External(table::canonical(&path.join("::")))
    }
}

/// The name of the type an `impl` block is for (`Queue` for `impl<T> Queue<T>`).
pub fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        syn::Type::Reference(r) => type_name(&r.elem),
        _ => None,
    }
}

/// An item's outer attributes.
pub fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}
