//! tminus: a static-site generator for cutover plans and go-live communication packs.

pub mod diagnostics;
pub mod source;
