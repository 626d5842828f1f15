//! tminus: a static-site generator for cutover plans and go-live communication packs.
//!
//! The modules follow the data: [`load`] reads and validates a project (with [`source`]
//! and [`model`]) into a [`project::Project`]; [`time`] resolves T-minus offsets; [`plan`]
//! schedules the cutover and the comms; [`render`] turns them into pages and emails with
//! [`markdown`] and [`templates`]; [`site`] writes the versioned output;
//! [`send`] sends the comms that are due, with a ledger for exactly-once delivery.

pub mod cache;
pub mod diagnostics;
pub mod hash;
pub mod import;
pub mod load;
pub mod markdown;
pub mod model;
pub mod plan;
pub mod project;
pub mod render;
pub mod scaffold;
pub mod search;
pub mod send;
pub mod site;
pub mod source;
pub mod templates;
pub mod time;
pub mod urlpath;
