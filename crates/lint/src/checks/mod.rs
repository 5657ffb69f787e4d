//! The checks, one module each. Each appends its findings to `out`.

mod allow_all;
mod audit;
mod default_deny;
mod dns;
mod ignored;
mod ipblock;
mod named_port;
mod peers;
mod redundant;
mod selects_nothing;

use crate::ctx::Ctx;
use crate::Finding;

/// Runs every check (PL010 only when asked for), in code order.
pub(crate) fn run(ctx: &Ctx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    selects_nothing::check(ctx, &mut out);
    peers::check(ctx, &mut out);
    named_port::check(ctx, &mut out);
    ignored::check(ctx, &mut out);
    redundant::check(ctx, &mut out);
    dns::check(ctx, &mut out);
    ipblock::check(ctx, &mut out);
    if ctx.opts.require_default_deny {
        default_deny::check(ctx, &mut out);
    }
    allow_all::check(ctx, &mut out);
    audit::check(ctx, &mut out);
    out
}

/// `ns/a, ns/b, ns/c and 4 more`: a short list of objects for messages.
pub(crate) fn short_list<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    const SHOWN: usize = 3;
    let all: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    let head = all[..all.len().min(SHOWN)].join(", ");
    match all.len().saturating_sub(SHOWN) {
        0 => head,
        more => format!("{head} and {more} more"),
    }
}

/// `the destination pod ns/a`, or `the 3 destination pods (ns/a, ns/b, ns/c)`.
pub(crate) fn the<T: std::fmt::Display>(what: &str, items: &[T]) -> String {
    match items {
        [one] => format!("the {what} {one}"),
        _ => format!("the {} ({})", count(items.len(), what), short_list(items)),
    }
}

/// `singular` when `n` is 1, else `plural`.
pub(crate) fn agree(n: usize, singular: &'static str, plural: &'static str) -> &'static str {
    if n == 1 {
        singular
    } else {
        plural
    }
}

/// `1 pod`, `3 pods`.
pub(crate) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
