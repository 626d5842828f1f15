//! tminus: a static-site generator for cutover plans and go-live communication packs.
//!
//! The modules follow the data: [`load`] reads and validates a project (with [`source`]
//! and [`model`]) into a [`project::Project`]; [`time`] resolves T-minus offsets; [`plan`]
//! schedules the cutover, the rehearsals and the comms; [`email`] renders announcements;
//! [`render`] turns the plan into pages and files with [`markdown`], [`templates`] and
//! [`urls`]; [`site`] runs the one build sequence of `build`, `check` and `serve` and
//! writes the versioned output; [`send`] sends the comms that are due, with a ledger for
//! exactly-once delivery, and reports where they stand as [`delivery`] data. Each module
//! uses only those in layers below it (see README, "Architecture").

pub mod cache;
pub mod delivery;
pub mod diagnostics;
pub mod email;
pub mod hash;
pub mod import;
pub mod live;
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
pub mod url_rule;
pub mod urlpath;
pub mod urls;
pub mod util;
