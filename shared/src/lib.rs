//! The vocabulary and sync core that the anju server and field devices both run: hybrid
//! logical clocks, the field-record schemas, the sync wire protocol and the per-field merge.
//! Pure code: no I/O, no clock reads, no framework.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod hlc;
pub mod merge;
pub mod protocol;
pub mod records;
pub mod rejection;
