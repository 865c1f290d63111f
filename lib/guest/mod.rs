//! The vocabulary every layer shares: the records tools print, guest names,
//! the targets tools are given, and how sizes, times and signals are written.

pub mod names;
pub mod record;
pub mod target;
pub mod units;
