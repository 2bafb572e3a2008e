//! UI strings: one catalog per language, Chinese first. Both catalogs must hold the same keys (a test checks).

use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

type Catalog = HashMap<String, String>;

fn load(text: &str) -> Catalog {
    serde_json::from_str(text).expect("embedded catalog is valid JSON")
}

static ZH: LazyLock<Catalog> = LazyLock::new(|| load(include_str!("../i18n/zh.json")));
static EN: LazyLock<Catalog> = LazyLock::new(|| load(include_str!("../i18n/en.json")));

/// The translation of `key`; a missing key shows itself so it is noticed, never a blank.
pub fn t(lang: Lang, key: &str) -> String {
    let catalog = match lang {
        Lang::Zh => &*ZH,
        Lang::En => &*EN,
    };
    catalog.get(key).cloned().unwrap_or_else(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_have_the_same_keys() {
        let mut zh: Vec<_> = ZH.keys().collect();
        let mut en: Vec<_> = EN.keys().collect();
        zh.sort();
        en.sort();
        assert_eq!(zh, en);
        assert_eq!(t(Lang::Zh, "login.title"), "登录");
        assert_eq!(t(Lang::En, "no.such.key"), "no.such.key");
    }

    #[test]
    fn every_error_code_the_ui_shows_has_a_sentence() {
        for code in [
            "unauthenticated",
            "bad_credentials",
            "account_locked",
            "forbidden",
            "not_found",
            "csrf",
            "internal",
            "payload_too_large",
            "unsupported_evidence_type",
            "empty_file",
            "one_file",
            "bad_form",
        ] {
            assert_ne!(t(Lang::Zh, &format!("error.{code}")), format!("error.{code}"));
        }
    }
}
