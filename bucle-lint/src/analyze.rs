//! The walk over function bodies: which code is async context, which calls in it block, which
//! `std::sync` guards live across an `.await`, and which of the crate's own functions each
//! context calls (the call graph that carries async context into sync helpers).

use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

use crate::model::{type_name, FnId, FnKey, Model, Resolved};
use crate::resolve::UseMap;
use crate::source::{is_cfg_test, SourceFile};
use crate::table::{self, Blocking};
use crate::types::Ty;

/// A finding before its async context is known (a sync helper's findings wait for the call
/// graph).
#[derive(Debug, Clone)]
pub struct RawFinding {
    pub file: usize,
    pub start: (usize, usize),
    pub end: (usize, usize),
    pub call: String,
    pub message: String,
    pub help: String,
    pub notes: Vec<String>,
    /// Lines whose allow comment would silence this finding: its own, its statement's and its
    /// enclosing items'.
    pub anchors: Vec<usize>,
    /// Inside `bucle::detector::allow(reason, ..)` or a task spawned with `allow_blocking()`:
    /// which of the two, and the reason.
    pub allow_scope: Option<(&'static str, Rc<str>)>,
    /// "in async fn fetch", filled in once known.
    pub context: String,
}

/// What the walk learned about one crate.
#[derive(Default)]
pub struct Facts {
    /// Findings in async context.
    pub direct: Vec<RawFinding>,
    /// Findings in the sync body of a function, reported if async context reaches it.
    pending: HashMap<FnId, Vec<RawFinding>>,
    /// Calls from one sync body to another function of the crate.
    edges: HashMap<FnId, Vec<FnId>>,
    /// Calls from async context: the function and the context's description.
    roots: Vec<(FnId, Rc<str>)>,
    /// Functions called or passed from code that runs off the loop.
    off_loop: HashSet<FnId>,
}

impl Facts {
    /// Carries async context along the call graph and returns every finding with its note.
    ///
    /// A sync function is async context when async code calls it, directly or through other
    /// sync functions, and nothing hands it (or a call of it) to a thread: a helper that is
    /// also run on an executor is taken to be meant for one, and not reported.
    pub fn resolve(mut self, model: &Model) -> Vec<RawFinding> {
        let mut reached: HashMap<FnId, String> = HashMap::new();
        let mut queue: VecDeque<(FnId, String)> = self
            .roots
            .iter()
            .map(|(id, desc)| (*id, desc.to_string()))
            .collect();
        let mut order = Vec::new();
        while let Some((id, caller)) = queue.pop_front() {
            let def = &model.fns[id];
            if def.is_async || self.off_loop.contains(&id) || reached.contains_key(&id) {
                continue;
            }
            let chain = format!("{}, called from {caller}", def.display);
            for next in self.edges.get(&id).into_iter().flatten() {
                queue.push_back((*next, chain.clone()));
            }
            reached.insert(id, chain);
            order.push(id);
        }
        let mut out = std::mem::take(&mut self.direct);
        for id in order {
            for mut finding in self.pending.remove(&id).unwrap_or_default() {
                finding.context = format!("in {}", reached[&id]);
                out.push(finding);
            }
        }
        out
    }
}

#[derive(Clone)]
enum Kind {
    /// Runs on the loop; the description names the context ("async fn fetch").
    Async(Rc<str>),
    /// The body of a sync function: async context only if the call graph says so.
    Sync(FnId),
    /// Runs on another thread.
    OffLoop,
    /// Const evaluation, statics, or outside any function: never runs on the loop.
    Inert,
}

#[derive(Clone)]
struct Ctx {
    kind: Kind,
    allow_scope: Option<(&'static str, Rc<str>)>,
}

/// Walks one file's bodies.
pub struct Analyzer<'a> {
    model: &'a mut Model,
    facts: &'a mut Facts,
    file_index: usize,
    file: &'a SourceFile,
    include_tests: bool,
    module: Vec<String>,
    /// The enclosing `impl`: its type's name and its trait's name.
    impls: Vec<(Option<String>, Option<String>)>,
    ctx: Vec<Ctx>,
    /// Local variables' types, one map per scope; `None` shadows an outer binding.
    env: Vec<HashMap<String, Option<Ty>>>,
    /// `use` items declared inside blocks.
    block_uses: Vec<UseMap>,
    /// `fn` items declared inside blocks.
    block_fns: Vec<HashMap<String, FnId>>,
    /// Lines an allow comment may sit on to silence what is inside.
    anchors: Vec<usize>,
    /// The enclosing function's description, for async blocks and closures.
    fn_desc: Vec<Rc<str>>,
    /// Set just before a function's body is walked: a closure that is the body's value is
    /// returned, not run, so it does not share the function's context.
    returns_closure: bool,
}

impl<'a> Analyzer<'a> {
    pub fn new(
        model: &'a mut Model,
        facts: &'a mut Facts,
        file_index: usize,
        file: &'a SourceFile,
        include_tests: bool,
    ) -> Analyzer<'a> {
        Analyzer {
            model,
            facts,
            file_index,
            file,
            include_tests,
            module: file.module.clone(),
            impls: Vec::new(),
            ctx: vec![Ctx {
                kind: Kind::Inert,
                allow_scope: None,
            }],
            env: vec![HashMap::new()],
            block_uses: Vec::new(),
            block_fns: Vec::new(),
            anchors: Vec::new(),
            fn_desc: Vec::new(),
            returns_closure: false,
        }
    }

    pub fn run(mut self) {
        let file = self.file;
        self.visit_file(&file.ast);
    }

    fn ctx(&self) -> &Ctx {
        self.ctx.last().expect("the root context is never popped")
    }

    fn push_kind(&mut self, kind: Kind) {
        let allow_scope = self.ctx().allow_scope.clone();
        self.ctx.push(Ctx { kind, allow_scope });
    }

    fn impl_ty(&self) -> Option<&str> {
        self.impls.last().and_then(|(ty, _)| ty.as_deref())
    }

    fn resolve_path(&self, path: &syn::Path) -> Resolved {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() == 1 {
            for scope in self.block_fns.iter().rev() {
                if scope.contains_key(&segments[0]) {
                    let mut p = self.module.clone();
                    p.push(segments[0].clone());
                    return Resolved::Local(p);
                }
            }
        }
        self.model
            .resolve(&segments, &self.module, &self.block_uses)
    }

    /// The crate's functions a call path names (a nested `fn` shadows a module's).
    fn local_callees(&self, path: &syn::Path) -> Vec<FnId> {
        if path.segments.len() == 1 {
            let name = path.segments[0].ident.to_string();
            for scope in self.block_fns.iter().rev() {
                if let Some(id) = scope.get(&name) {
                    return vec![*id];
                }
            }
        }
        let resolved = self.resolve_path(path);
        self.model.lookup(&resolved, self.impl_ty()).to_vec()
    }

    fn bind(&mut self, name: String, ty: Option<Ty>) {
        self.env.last_mut().expect("a scope").insert(name, ty);
    }

    fn lookup_var(&self, name: &str) -> Option<Ty> {
        for scope in self.env.iter().rev() {
            if let Some(ty) = scope.get(name) {
                return ty.clone();
            }
        }
        let statics = &self.model.modules.get(&self.module)?.statics;
        statics.get(name).cloned()
    }

    /// The type of an expression, if the code at hand shows it.
    fn type_of(&self, expr: &syn::Expr) -> Option<Ty> {
        match expr {
            syn::Expr::Path(p) if p.qself.is_none() => {
                let ident = p.path.get_ident()?.to_string();
                if ident == "self" {
                    return self.impl_ty().map(|t| Ty::Local(t.to_string()));
                }
                self.lookup_var(&ident)
            }
            syn::Expr::Reference(r) => self.type_of(&r.expr),
            syn::Expr::Paren(p) => self.type_of(&p.expr),
            syn::Expr::Group(g) => self.type_of(&g.expr),
            syn::Expr::Try(t) => self.type_of(&t.expr)?.unwrapped(),
            syn::Expr::Field(f) => {
                let Ty::Local(owner) = self.type_of(&f.base)? else {
                    return None;
                };
                let syn::Member::Named(field) = &f.member else {
                    return None;
                };
                self.model.fields.get(&(owner, field.to_string())).cloned()
            }
            syn::Expr::Call(call) => {
                let syn::Expr::Path(func) = &*call.func else {
                    return None;
                };
                match self.resolve_path(&func.path) {
                    Resolved::External(path) => {
                        if let Some(ty) = table::constructor(&path) {
                            return Some(ty);
                        }
                        let (owner, ctor) = path.rsplit_once("::")?;
                        if table::is_transparent_wrapper(owner) && matches!(ctor, "new" | "clone") {
                            return self.type_of(call.args.first()?);
                        }
                        if matches!(ctor, "new" | "default" | "with_capacity")
                            && owner.contains("::")
                        {
                            return Some(Ty::Path(owner.to_string()));
                        }
                        None
                    }
                    Resolved::Local(path) => {
                        let [.., owner, ctor] = path.as_slice() else {
                            return None;
                        };
                        (self.model.local_types.contains(owner)
                            && matches!(ctor.as_str(), "new" | "default"))
                        .then(|| Ty::Local(owner.clone()))
                    }
                    Resolved::SelfItem(ctor) if matches!(ctor.as_str(), "new" | "default") => {
                        self.impl_ty().map(|t| Ty::Local(t.to_string()))
                    }
                    _ => None,
                }
            }
            syn::Expr::MethodCall(m) => {
                let method = m.method.to_string();
                let receiver = self.type_of(&m.receiver)?;
                match method.as_str() {
                    "unwrap" | "expect" | "unwrap_or_else" => receiver.unwrapped(),
                    "clone" => Some(receiver),
                    _ => table::method_returns(receiver.path()?, &method),
                }
            }
            _ => None,
        }
    }

    /// Reports a blocking call at `span` in the current context.
    fn report(&mut self, blocking: Blocking, span: Span, notes: Vec<String>) {
        let message = format!("{} blocks the event loop", blocking.call);
        self.report_raw(blocking.call, message, blocking.help, span, notes);
    }

    fn report_raw(
        &mut self,
        call: String,
        message: String,
        help: String,
        span: Span,
        notes: Vec<String>,
    ) {
        let ctx = self.ctx().clone();
        let (start, end) = (span.start(), span.end());
        let mut finding = RawFinding {
            file: self.file_index,
            start: (start.line, start.column),
            end: (end.line, end.column),
            call,
            message,
            help,
            notes,
            anchors: self.anchors.clone(),
            allow_scope: ctx.allow_scope.clone(),
            context: String::new(),
        };
        match ctx.kind {
            Kind::Async(desc) => {
                finding.context = format!("in {desc}");
                self.facts.direct.push(finding);
            }
            Kind::Sync(id) => self.facts.pending.entry(id).or_default().push(finding),
            Kind::OffLoop | Kind::Inert => {}
        }
    }

    /// Records calls of the crate's own functions from the current context. A call under an
    /// allow comment or scope carries no async context into the callee.
    fn record_call(&mut self, callees: Vec<FnId>, span: Span) {
        let ctx = self.ctx().clone();
        let line = span.start().line;
        let commented = std::iter::once(&line)
            .chain(&self.anchors)
            .any(|l| self.file.allowed_lines.contains_key(l));
        if commented && !matches!(ctx.kind, Kind::OffLoop) {
            return;
        }
        for id in callees {
            match &ctx.kind {
                Kind::Async(desc) if ctx.allow_scope.is_none() => {
                    self.facts.roots.push((id, desc.clone()))
                }
                Kind::Sync(caller) if ctx.allow_scope.is_none() => {
                    self.facts.edges.entry(*caller).or_default().push(id)
                }
                Kind::OffLoop => {
                    self.facts.off_loop.insert(id);
                }
                _ => {}
            }
        }
    }

    /// Visits arguments handed to a thread: closures run off the loop, and a function named
    /// by path is marked as run off the loop.
    fn visit_off_loop_args<'x>(&mut self, args: impl Iterator<Item = &'x syn::Expr>) {
        for arg in args {
            match arg {
                syn::Expr::Closure(c) if c.asyncness.is_none() => {
                    self.push_kind(Kind::OffLoop);
                    self.visit_expr_closure(c);
                    self.ctx.pop();
                }
                syn::Expr::Path(p) => {
                    let callees = self.local_callees(&p.path);
                    self.facts.off_loop.extend(callees);
                }
                other => {
                    // `run_in_executor_with(make_job(..))`: the function that builds the job is
                    // meant for the pool too.
                    if let syn::Expr::Call(call) = other {
                        if let syn::Expr::Path(func) = &*call.func {
                            let callees = self.local_callees(&func.path);
                            self.facts.off_loop.extend(callees);
                        }
                    }
                    self.visit_expr(other)
                }
            }
        }
    }

    fn enter_fn(
        &mut self,
        sig: &syn::Signature,
        body: &syn::Block,
        attrs: &[syn::Attribute],
        kind_override: Option<Kind>,
    ) {
        if !self.include_tests && is_cfg_test(attrs) {
            return;
        }
        let at = sig.ident.span().start();
        let id = match self
            .model
            .by_site
            .get(&(self.file_index, at.line, at.column))
        {
            Some(id) => *id,
            None => {
                // A `fn` item inside a body: it runs only where it is called.
                let name = sig.ident.to_string();
                let mut scope = self.module.clone();
                scope.push(format!("{{fn@{}:{}}}", at.line, at.column));
                let id = self.model.add_def(
                    FnKey::Free(scope, name.clone()),
                    name.clone(),
                    sig.asyncness.is_some(),
                );
                if let Some(block) = self.block_fns.last_mut() {
                    block.insert(name, id);
                }
                id
            }
        };
        let display: Rc<str> = self.model.fns[id].display.clone().into();
        let kind = match kind_override {
            Some(kind) => kind,
            None if sig.asyncness.is_some() => Kind::Async(display.clone()),
            None => Kind::Sync(id),
        };
        // A function's body starts from a clean slate: it is not inside the closure or allow
        // scope that lexically surrounds it.
        self.ctx.push(Ctx {
            kind,
            allow_scope: None,
        });
        self.fn_desc.push(display);
        self.anchors.push(sig.span().start().line);
        self.env.push(HashMap::new());
        for input in &sig.inputs {
            if let syn::FnArg::Typed(pt) = input {
                let ty = self
                    .model
                    .resolve_type(&pt.ty, &self.module, &self.block_uses);
                self.bind_pat(&pt.pat, ty);
            }
        }
        self.returns_closure = true;
        self.visit_block(body);
        self.env.pop();
        self.anchors.pop();
        self.fn_desc.pop();
        self.ctx.pop();
    }

    /// Binds the names of a pattern, with `ty` the type of the whole value.
    fn bind_pat(&mut self, pat: &syn::Pat, ty: Option<Ty>) {
        match pat {
            syn::Pat::Ident(p) => {
                if let Some((_, sub)) = &p.subpat {
                    self.bind_pat(sub, None);
                }
                self.bind(p.ident.to_string(), ty);
            }
            syn::Pat::Type(pt) => {
                let declared = self
                    .model
                    .resolve_type(&pt.ty, &self.module, &self.block_uses);
                self.bind_pat(&pt.pat, declared);
            }
            syn::Pat::Tuple(t) => {
                let elems = match ty {
                    Some(Ty::Tuple(elems)) if elems.len() == t.elems.len() => elems,
                    _ => vec![None; t.elems.len()],
                };
                for (p, ty) in t.elems.iter().zip(elems) {
                    self.bind_pat(p, ty);
                }
            }
            syn::Pat::Reference(r) => self.bind_pat(&r.pat, ty),
            syn::Pat::Paren(p) => self.bind_pat(&p.pat, ty),
            other => {
                let mut names = Vec::new();
                collect_pat_names(other, &mut names);
                for name in names {
                    self.bind(name, None);
                }
            }
        }
    }

    fn async_desc(&self, what: &str) -> Rc<str> {
        match self.fn_desc.last() {
            Some(f) => format!("{what} in {f}").into(),
            None => what.to_string().into(),
        }
    }

    /// In async context: `std::sync` guards bound in this block that are alive at a later
    /// `.await`, and guard temporaries that live to an `.await` in the same statement.
    fn check_guards(&mut self, stmts: &[syn::Stmt], i: usize) {
        let stmt = &stmts[i];
        if let syn::Stmt::Local(local) = stmt {
            if let (Some(init), Some(name)) = (&local.init, guard_binding(&local.pat)) {
                if let Some((lock_ty, lock_span)) = self.guard_expr(&init.expr) {
                    self.check_bound_guard(&stmts[i + 1..], &name, &lock_ty, lock_span);
                    return;
                }
            }
        }
        // Temporaries live to the end of their statement.
        let mut events = Events::default();
        match stmt {
            syn::Stmt::Local(l) => {
                if let Some(init) = &l.init {
                    events.visit_expr(&init.expr);
                }
            }
            syn::Stmt::Expr(e, _) => events.visit_expr(e),
            _ => {}
        }
        let mut lock: Option<(String, Span)> = None;
        for event in &events.0 {
            match event {
                Event::Lock(call) if lock.is_none() => {
                    if let Some(ty) = self
                        .type_of(&call.receiver)
                        .and_then(|t| t.path().map(str::to_string))
                    {
                        if table::guard_lock(&ty, &call.method.to_string()) {
                            lock = Some((format!("{ty}::{}", call.method), method_span(call)));
                        }
                    }
                }
                Event::Await(at) => {
                    if let Some((lock_call, span)) = lock.take() {
                        let note = format!(
                            "the guard is a temporary that lives to the end of the statement, past the .await on line {}",
                            at.start().line
                        );
                        self.report_guard(lock_call, span, note);
                    }
                }
                _ => {}
            }
        }
    }

    fn check_bound_guard(
        &mut self,
        rest: &[syn::Stmt],
        name: &str,
        lock_call: &str,
        lock_span: Span,
    ) {
        for stmt in rest {
            if is_drop_of(stmt, name) || moves(stmt, name) {
                return;
            }
            if let Some(at) = first_await(stmt) {
                let note = format!(
                    "`{name}` is still alive at the .await on line {}",
                    at.start().line
                );
                self.report_guard(lock_call.to_string(), lock_span, note);
                return;
            }
            if let syn::Stmt::Local(l) = stmt {
                let mut names = Vec::new();
                collect_pat_names(&l.pat, &mut names);
                if names.iter().any(|n| n == name) {
                    return;
                }
            }
        }
    }

    fn report_guard(&mut self, lock_call: String, span: Span, note: String) {
        let ty = lock_call
            .rsplit_once("::")
            .map(|(t, _)| t.to_string())
            .unwrap_or_default();
        let message = format!("{lock_call} guard held across an .await");
        let help = "drop the guard before the .await (end its block or call `drop(guard)`), or use `bucle::sync::Lock`, whose guard may live across an .await".to_string();
        let notes = vec![
            note,
            format!("while this task waits, a task that locks the same {ty} blocks the loop thread, and this task cannot run again to unlock it"),
        ];
        self.report_raw(lock_call, message, help, span, notes);
    }

    /// `m.lock()`, `m.lock().unwrap()`, `m.lock()?`, `m.lock().expect(..)` on a std lock.
    fn guard_expr(&self, expr: &syn::Expr) -> Option<(String, Span)> {
        let mut e = expr;
        loop {
            match e {
                syn::Expr::Try(t) => e = &t.expr,
                syn::Expr::MethodCall(m)
                    if matches!(
                        m.method.to_string().as_str(),
                        "unwrap" | "expect" | "unwrap_or_else"
                    ) =>
                {
                    e = &m.receiver
                }
                syn::Expr::MethodCall(m) => {
                    let ty = self.type_of(&m.receiver)?;
                    let ty = ty.path()?;
                    let method = m.method.to_string();
                    return table::guard_lock(ty, &method)
                        .then(|| (format!("{ty}::{method}"), method_span(m)));
                }
                _ => return None,
            }
        }
    }

    /// Tries a macro's tokens as comma-separated expressions (`println!`, `assert_eq!`,
    /// `vec!`, `format!`), so calls inside them are seen; other macros are skipped.
    fn visit_macro_body(&mut self, mac: &syn::Macro) {
        use syn::parse::Parser;
        let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        if let Ok(exprs) = parser.parse2(mac.tokens.clone()) {
            for e in &exprs {
                self.visit_expr(e);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Analyzer<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !self.include_tests && is_cfg_test(crate::model::item_attrs(item)) {
            return;
        }
        visit::visit_item(self, item);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let Some((_, items)) = &m.content else { return };
        self.module.push(m.ident.to_string());
        self.anchors.push(m.ident.span().start().line);
        for item in items {
            self.visit_item(item);
        }
        self.anchors.pop();
        self.module.pop();
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.enter_fn(&f.sig, &f.block, &f.attrs, None);
    }

    fn visit_item_impl(&mut self, imp: &'ast syn::ItemImpl) {
        let trait_name = imp
            .trait_
            .as_ref()
            .and_then(|(_, p, _)| p.segments.last().map(|s| s.ident.to_string()));
        self.impls.push((type_name(&imp.self_ty), trait_name));
        self.anchors.push(imp.impl_token.span.start().line);
        visit::visit_item_impl(self, imp);
        self.anchors.pop();
        self.impls.pop();
    }

    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        self.impls.push((Some(t.ident.to_string()), None));
        visit::visit_item_trait(self, t);
        self.impls.pop();
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        // `poll` of a future, stream or async reader runs on the loop like an async fn body.
        let trait_name = self.impls.last().and_then(|(_, t)| t.clone());
        let polls = f.sig.ident.to_string().starts_with("poll")
            && trait_name.as_deref().is_some_and(|t| {
                matches!(
                    t,
                    "Future" | "Stream" | "AsyncRead" | "AsyncWrite" | "AsyncBufRead" | "AsyncSeek"
                )
            });
        let kind = polls.then(|| {
            let ty = self.impl_ty().unwrap_or("_");
            Kind::Async(
                format!(
                    "fn {ty}::{}, an impl of {}",
                    f.sig.ident,
                    trait_name.unwrap_or_default()
                )
                .into(),
            )
        });
        self.enter_fn(&f.sig, &f.block, &f.attrs, kind);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(body) = &f.default {
            self.enter_fn(&f.sig, body, &f.attrs, None);
        }
    }

    fn visit_item_const(&mut self, c: &'ast syn::ItemConst) {
        self.push_kind(Kind::Inert);
        visit::visit_item_const(self, c);
        self.ctx.pop();
    }

    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        self.push_kind(Kind::Inert);
        visit::visit_item_static(self, s);
        self.ctx.pop();
    }

    fn visit_expr_const(&mut self, c: &'ast syn::ExprConst) {
        self.push_kind(Kind::Inert);
        visit::visit_expr_const(self, c);
        self.ctx.pop();
    }

    fn visit_expr_async(&mut self, a: &'ast syn::ExprAsync) {
        let desc = self.async_desc("an async block");
        self.push_kind(Kind::Async(desc));
        self.env.push(HashMap::new());
        visit::visit_expr_async(self, a);
        self.env.pop();
        self.ctx.pop();
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        let is_async = c.asyncness.is_some();
        if is_async {
            let desc = self.async_desc("an async closure");
            self.push_kind(Kind::Async(desc));
        }
        self.env.push(HashMap::new());
        for input in &c.inputs {
            self.bind_pat(input, None);
        }
        self.visit_expr(&c.body);
        self.env.pop();
        if is_async {
            self.ctx.pop();
        }
    }

    fn visit_block(&mut self, block: &'ast syn::Block) {
        // Items in a block are visible in the whole block, before and after them.
        let mut uses = UseMap::default();
        let mut fns = HashMap::new();
        let mut has_items = false;
        for stmt in &block.stmts {
            if let syn::Stmt::Item(item) = stmt {
                has_items = true;
                match item {
                    syn::Item::Use(u) => uses.add(&u.tree, &self.module, &|_| false),
                    syn::Item::Fn(f) => {
                        let name = f.sig.ident.to_string();
                        let at = f.sig.ident.span().start();
                        let mut scope = self.module.clone();
                        scope.push(format!("{{fn@{}:{}}}", at.line, at.column));
                        let id = self.model.add_def(
                            FnKey::Free(scope, name.clone()),
                            name.clone(),
                            f.sig.asyncness.is_some(),
                        );
                        self.model
                            .by_site
                            .insert((self.file_index, at.line, at.column), id);
                        fns.insert(name, id);
                    }
                    _ => {}
                }
            }
        }
        if has_items {
            self.block_uses.push(uses);
            self.block_fns.push(fns);
        }
        self.env.push(HashMap::new());
        let in_async = matches!(self.ctx().kind, Kind::Async(_));
        let returns_closure = std::mem::take(&mut self.returns_closure);
        for (i, stmt) in block.stmts.iter().enumerate() {
            if in_async {
                self.check_guards(&block.stmts, i);
            }
            self.anchors.push(stmt.span().start().line);
            match stmt {
                syn::Stmt::Expr(syn::Expr::Closure(c), None)
                    if returns_closure && c.asyncness.is_none() =>
                {
                    self.push_kind(Kind::Inert);
                    self.visit_expr_closure(c);
                    self.ctx.pop();
                }
                _ => self.visit_stmt(stmt),
            }
            self.anchors.pop();
        }
        self.env.pop();
        if has_items {
            self.block_uses.pop();
            self.block_fns.pop();
        }
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        let mut ty = None;
        if let Some(init) = &local.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
            ty = self.type_of(&init.expr);
        }
        self.bind_pat(&local.pat, ty);
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        self.env.push(HashMap::new());
        self.bind_pat(&arm.pat, None);
        if let Some((_, guard)) = &arm.guard {
            self.visit_expr(guard);
        }
        self.visit_expr(&arm.body);
        self.env.pop();
    }

    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        self.visit_expr(&f.expr);
        self.env.push(HashMap::new());
        self.bind_pat(&f.pat, None);
        self.visit_block(&f.body);
        self.env.pop();
    }

    fn visit_expr_if(&mut self, e: &'ast syn::ExprIf) {
        self.env.push(HashMap::new());
        visit::visit_expr_if(self, e);
        self.env.pop();
    }

    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.env.push(HashMap::new());
        visit::visit_expr_while(self, e);
        self.env.pop();
    }

    fn visit_expr_let(&mut self, e: &'ast syn::ExprLet) {
        self.visit_expr(&e.expr);
        self.bind_pat(&e.pat, None);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        let syn::Expr::Path(func) = &*call.func else {
            visit::visit_expr_call(self, call);
            return;
        };
        match self.resolve_path(&func.path) {
            Resolved::External(path) => {
                if let Some(blocking) = table::blocking_path(&path) {
                    let span = call_span(&func.path, call);
                    self.report(blocking, span, Vec::new());
                }
                if table::off_loop_path(&path) {
                    self.visit_off_loop_args(call.args.iter());
                    return;
                }
                if table::allow_scope_path(&path) {
                    let reason = match call.args.first() {
                        Some(syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        })) => s.value(),
                        _ => "no reason given".to_string(),
                    };
                    self.ctx.push(Ctx {
                        kind: self.ctx().kind.clone(),
                        allow_scope: Some(("allow_scope", reason.into())),
                    });
                    for arg in &call.args {
                        self.visit_expr(arg);
                    }
                    self.ctx.pop();
                    return;
                }
            }
            _ => {
                let callees = self.local_callees(&func.path);
                self.record_call(callees, call.span());
            }
        }
        for arg in &call.args {
            self.visit_expr(arg);
        }
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let method = m.method.to_string();
        let receiver_ty = self.type_of(&m.receiver);
        if let Some(ty) = receiver_ty.as_ref() {
            if let Some(blocking) = ty.path().and_then(|p| table::blocking_method(p, &method)) {
                self.report(blocking, method_span(m), Vec::new());
            }
            if let Ty::Local(owner) = ty {
                let key = FnKey::Method(owner.clone(), method.clone());
                let callees = self.model.by_key.get(&key).cloned().unwrap_or_default();
                self.record_call(callees, m.method.span());
            }
        }
        self.visit_expr(&m.receiver);
        if method.starts_with("spawn") && builder_allows_blocking(&m.receiver) {
            // `task::Builder::new().allow_blocking().spawn(..)`: the runtime's per-task allow.
            self.ctx.push(Ctx {
                kind: self.ctx().kind.clone(),
                allow_scope: Some(("allow_blocking_task", "the task may block".into())),
            });
            for arg in &m.args {
                self.visit_expr(arg);
            }
            self.ctx.pop();
            return;
        }
        let hands_off = table::off_loop_method(&method)
            && m.args.iter().any(|a| match a {
                syn::Expr::Closure(c) => c.asyncness.is_none(),
                syn::Expr::Path(p) => !self.local_callees(&p.path).is_empty(),
                _ => false,
            });
        if hands_off {
            self.visit_off_loop_args(m.args.iter());
        } else {
            for arg in &m.args {
                self.visit_expr(arg);
            }
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_macro_body(mac);
    }
}

/// A builder chain with `.allow_blocking()` in it.
fn builder_allows_blocking(mut expr: &syn::Expr) -> bool {
    while let syn::Expr::MethodCall(m) = expr {
        if m.method == "allow_blocking" {
            return true;
        }
        expr = &m.receiver;
    }
    false
}

/// From a method's name to the end of its call: `.recv()` is underlined as `recv()`.
fn method_span(m: &syn::ExprMethodCall) -> Span {
    m.method
        .span()
        .join(m.paren_token.span.close())
        .unwrap_or_else(|| m.method.span())
}

/// The whole call when it fits on one line, else its path.
fn call_span(path: &syn::Path, call: &syn::ExprCall) -> Span {
    let whole = call.span();
    if whole.start().line == whole.end().line {
        whole
    } else {
        path.span()
    }
}

/// A simple binding that keeps a guard alive: `guard`, `mut guard` (not `_`).
fn guard_binding(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(p) if p.subpat.is_none() => Some(p.ident.to_string()),
        syn::Pat::Type(t) => guard_binding(&t.pat),
        _ => None,
    }
}

fn collect_pat_names(pat: &syn::Pat, out: &mut Vec<String>) {
    struct Names<'o>(&'o mut Vec<String>);
    impl<'ast> Visit<'ast> for Names<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(p.ident.to_string());
            visit::visit_pat_ident(self, p);
        }
    }
    Names(out).visit_pat(pat);
}

fn is_path_to(expr: &syn::Expr, name: &str) -> bool {
    matches!(expr, syn::Expr::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

/// `drop(guard);` or `std::mem::drop(guard);`.
fn is_drop_of(stmt: &syn::Stmt, name: &str) -> bool {
    let syn::Stmt::Expr(syn::Expr::Call(call), _) = stmt else {
        return false;
    };
    let syn::Expr::Path(func) = &*call.func else {
        return false;
    };
    func.path.segments.last().is_some_and(|s| s.ident == "drop")
        && call.args.len() == 1
        && is_path_to(&call.args[0], name)
}

/// The guard is moved away: passed by value, returned, or bound to another name.
fn moves(stmt: &syn::Stmt, name: &str) -> bool {
    struct Moves<'n> {
        name: &'n str,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Moves<'_> {
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            self.found |= c.args.iter().any(|a| is_path_to(a, self.name));
            visit::visit_expr_call(self, c);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            self.found |= m.args.iter().any(|a| is_path_to(a, self.name));
            visit::visit_expr_method_call(self, m);
        }
        fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
            self.found |= r.expr.as_deref().is_some_and(|e| is_path_to(e, self.name));
            visit::visit_expr_return(self, r);
        }
        fn visit_local(&mut self, l: &'ast syn::Local) {
            self.found |= l
                .init
                .as_ref()
                .is_some_and(|i| is_path_to(&i.expr, self.name));
            visit::visit_local(self, l);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut v = Moves { name, found: false };
    v.visit_stmt(stmt);
    v.found
}

/// The first `.await` a statement reaches on this task (not inside a closure, async block or
/// item, which run elsewhere or later).
fn first_await(stmt: &syn::Stmt) -> Option<Span> {
    struct Awaits(Option<Span>);
    impl<'ast> Visit<'ast> for Awaits {
        fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
            visit::visit_expr_await(self, a);
            if self.0.is_none() {
                self.0 = Some(a.await_token.span);
            }
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut v = Awaits(None);
    v.visit_stmt(stmt);
    v.0
}

enum Event<'ast> {
    Lock(&'ast syn::ExprMethodCall),
    Await(Span),
}

/// Lock calls and awaits of one statement's own expression, in evaluation order, leaving out
/// nested blocks (their temporaries end with them) and match arms.
#[derive(Default)]
struct Events<'ast>(Vec<Event<'ast>>);

impl<'ast> Visit<'ast> for Events<'ast> {
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        self.visit_expr(&m.receiver);
        if matches!(m.method.to_string().as_str(), "lock" | "read" | "write") {
            self.0.push(Event::Lock(m));
        }
        for a in &m.args {
            self.visit_expr(a);
        }
    }
    fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
        visit::visit_expr_await(self, a);
        self.0.push(Event::Await(a.await_token.span));
    }
    fn visit_block(&mut self, _: &'ast syn::Block) {}
    fn visit_arm(&mut self, _: &'ast syn::Arm) {}
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}
