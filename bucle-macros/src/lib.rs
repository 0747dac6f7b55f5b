//! `#[bucle::main]` and `#[bucle::test]`: run an `async fn` on a bucle event loop.
//!
//! Both take optional `key = value` arguments, each applied as a call on
//! `bucle::runtime::Builder` (`start_paused = true` becomes `.start_paused(true)`), so every
//! builder setting is available without changes here.

use proc_macro::TokenStream;
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, MetaNameValue, Token};

/// Runs `async fn main` on a new bucle loop.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Kind::Main).unwrap_or_else(|err| err.to_compile_error().into())
}

/// Runs an `async fn` test on a fresh bucle loop.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Kind::Test).unwrap_or_else(|err| err.to_compile_error().into())
}

#[derive(PartialEq)]
enum Kind {
    Main,
    Test,
}

fn expand(args: TokenStream, item: TokenStream, kind: Kind) -> syn::Result<TokenStream> {
    let settings = Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse(args)?;
    let mut function: ItemFn = syn::parse(item)?;
    let attribute = match kind {
        Kind::Main => "#[bucle::main]",
        Kind::Test => "#[bucle::test]",
    };
    if function.sig.asyncness.take().is_none() {
        return Err(syn::Error::new(
            function.sig.fn_token.span(),
            format!("{attribute} goes on an `async fn`; add `async` before `fn`"),
        ));
    }
    if kind == Kind::Main && function.sig.ident != "main" {
        return Err(syn::Error::new(
            function.sig.ident.span(),
            "#[bucle::main] goes on `async fn main`; for other functions call `bucle::run`",
        ));
    }
    if !function.sig.inputs.is_empty() {
        return Err(syn::Error::new(
            function.sig.inputs.span(),
            format!("a function marked {attribute} takes no arguments"),
        ));
    }

    let calls = settings.iter().map(|setting| {
        let name = &setting.path;
        let value: &Expr = &setting.value;
        quote_spanned!(setting.span()=> .#name(#value))
    });
    let body = &function.block;
    // Tests start from `Builder::for_test()`: the blocking detector at `deny`, so a test
    // that blocks the loop fails with the report (settings given here come after it).
    let (builder, run) = match kind {
        Kind::Main => (quote!(new), quote!(block_on)),
        Kind::Test => (quote!(for_test), quote!(__run_test)),
    };
    let runtime = quote! {
        bucle::runtime::Builder::#builder()
            #(#calls)*
            .build()
            .expect("bucle: could not create the event loop")
    };
    function.block = syn::parse2(quote! {
        {
            let body = async move #body;
            #runtime.#run(body)
        }
    })?;
    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => quote!(),
    };
    Ok(quote!(#test_attr #function).into())
}
