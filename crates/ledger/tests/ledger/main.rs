//! Integration tests of the ledger's public API: known answers, properties, mutations, history.

mod history;
mod known_answers;
mod mutations;
mod properties;
mod reference;
