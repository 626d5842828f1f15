//! Planning: turning the validated project into a timeline — the cutover schedule with its
//! critical path, and the comms schedule (every message, wave, locale and send time).

pub mod comms;
pub mod cutover;
pub mod hypercare;
pub mod live;
pub mod rehearsal;
