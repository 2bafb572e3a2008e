//! Gridward's domain: the types and rules of integrated administrative law enforcement.
//!
//! Nothing here performs IO, awaits, speaks SQL or HTTP. Every rule is a pure function so that it can be
//! tested on its own and reused by every adapter.

/// Declares a closed set of codes with their Chinese names: `as_str`, `zh`, `parse`, `ALL`, `Display`.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal, $zh:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            /// The Chinese name used in official documents.
            pub fn zh(self) -> &'static str { match self { $($name::$variant => $zh),+ } }
            pub fn parse(s: &str) -> Option<$name> { Self::ALL.iter().copied().find(|v| v.as_str() == s) }
            /// Parses either the code or the Chinese name, as spreadsheets written by people use both.
            pub fn parse_either(s: &str) -> Option<$name> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.as_str() == s || v.zh() == s)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

pub mod access;
pub mod calendar;
pub mod case;
pub mod catalog;
pub mod delegation;
pub mod division;
pub mod evidence;
pub mod org;
pub mod party;
pub mod problem;
pub mod report;
pub mod staffing;

pub use problem::{Problem, Problems};

/// A civil (business) date, Asia/Shanghai.
pub use jiff::civil::Date;
