//! Every result as the tables a person reads: one file per result, through
//! [`Tabular`](super::Tabular).

mod compare;
