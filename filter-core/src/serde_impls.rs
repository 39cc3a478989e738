//! `serde` support (the `serde` feature): findings serialize as the
//! command line's JSON writes them; kinds, match types and actions as their
//! names; scan options both ways.
//!
//! ```
//! use filter_core::{ScanOptions, Scanner};
//!
//! let found = Scanner::new().scan("手机13800138000");
//! let json = serde_json::to_string(&found[0]).unwrap();
//! assert_eq!(
//!     json,
//!     r#"{"kind":"phone","start":6,"end":17,"match_type":"exact","text":"13800138000","category":"mobile","confidence":0.9}"#
//! );
//! let options: ScanOptions =
//!     serde_json::from_str(r#"{"kinds":["phone","email"],"min_confidence":0.5}"#).unwrap();
//! assert_eq!(Scanner::new().scan_with("手机13800138000", &options).len(), 1);
//! ```

use std::collections::BTreeSet;

use serde::de::Error as _;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::finding::{Action, Finding, MatchType};
use crate::kind::Kind;
use crate::scanner::ScanOptions;

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        name.parse().map_err(D::Error::custom)
    }
}

impl Serialize for MatchType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `kind`, `start`, `end` (UTF-8 bytes), `match_type`, `text`, then
/// `category` when there is one, `term` and `edit_distance` for sensitive
/// words, and `confidence`.
impl Serialize for Finding<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let category = Some(self.category()).filter(|c| !c.is_empty());
        let term = self.term();
        let fields = 6 + usize::from(category.is_some()) + 2 * usize::from(term.is_some());
        let mut st = s.serialize_struct("Finding", fields)?;
        st.serialize_field("kind", &self.kind())?;
        st.serialize_field("start", &self.start())?;
        st.serialize_field("end", &self.end())?;
        st.serialize_field("match_type", &self.match_type())?;
        st.serialize_field("text", self.as_str())?;
        match category {
            Some(c) => st.serialize_field("category", c)?,
            None => st.skip_field("category")?,
        }
        match term {
            Some(t) => {
                st.serialize_field("term", t)?;
                st.serialize_field("edit_distance", &self.edit_distance())?;
            }
            None => {
                st.skip_field("term")?;
                st.skip_field("edit_distance")?;
            }
        }
        st.serialize_field("confidence", &self.confidence())?;
        st.end()
    }
}

/// The fields of [`ScanOptions`] as they travel: absent or empty lists
/// mean everything.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionsRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kinds: Option<BTreeSet<Kind>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    categories: Option<BTreeSet<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_confidence: Option<f32>,
}

impl Serialize for ScanOptions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (kinds, categories, min_confidence) = self.parts();
        OptionsRepr {
            kinds: kinds.cloned(),
            categories: categories.cloned(),
            min_confidence,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ScanOptions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ScanOptions, D::Error> {
        let r = OptionsRepr::deserialize(d)?;
        let kinds: Vec<Kind> = r.kinds.into_iter().flatten().collect();
        let categories: Vec<String> = r.categories.into_iter().flatten().collect();
        let mut options = ScanOptions::new().kinds(&kinds).categories(&categories);
        if let Some(min) = r.min_confidence {
            if !(0.0..=1.0).contains(&min) {
                return Err(D::Error::custom(format!(
                    "min_confidence must be between 0 and 1, not {min}"
                )));
            }
            options = options.min_confidence(min);
        }
        Ok(options)
    }
}
