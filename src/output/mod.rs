//! Everything a person reads: tables for the terminal and notebooks ([`present`], and one
//! [`Tabular`] implementation per result), charts ([`charts`]), the publishable report
//! behind its disclosure gate ([`report`]) and the notebook display ([`notebook`]).
//! Nothing here computes a statistic.

pub mod audit;
pub mod charts;
pub(crate) mod describe;
pub mod notebook;
pub mod present;
pub mod report;
pub(crate) mod tables;
mod tabular;

pub use tabular::{Tabular, plain_fields, records_to_csv};
