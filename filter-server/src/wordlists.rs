//! Where the word lists come from: `filter-wordlists`, shared with
//! `filter-proxy`.

pub use filter_wordlists::Wordlists;
