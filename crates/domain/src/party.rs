//! Parties (当事人): the natural person or organisation a case is against, identified by the citizen ID
//! number (公民身份号码, GB 11643-1999) or the unified social credit code (统一社会信用代码, GB 32100-2015).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::org::mask_middle;

string_enum! {
    /// Whether the party is a natural person or an organisation; the summary-procedure limits differ.
    PartyKind {
        Person = "person", "公民";
        Organisation = "organisation", "法人或者其他组织";
    }
}

/// A party as a case records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub kind: PartyKind,
    pub name: String,
    /// The citizen ID number of a person or the credit code of an organisation, upper case.
    pub id_number: String,
    pub address: String,
    /// A person representing an organisation (法定代表人), empty for a person.
    #[serde(default)]
    pub representative: String,
    #[serde(default)]
    pub phone: String,
}

/// Why an identifier was refused; the codes are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("a citizen ID number has 18 characters: 17 digits and a check digit or X")]
    BadIdFormat,
    #[error("the birth date inside the citizen ID number is not a real past date")]
    BadIdBirthDate,
    #[error("the check digit of the citizen ID number does not match (GB 11643)")]
    BadIdCheck,
    #[error("a unified social credit code has 18 characters from 0-9 and A-Y without I, O, S, V, Z")]
    BadCreditCodeFormat,
    #[error("the check character of the unified social credit code does not match (GB 32100)")]
    BadCreditCodeCheck,
    #[error("a party needs a name and an address")]
    MissingPartyDetails,
}

impl IdError {
    pub fn code(self) -> &'static str {
        match self {
            IdError::BadIdFormat => "bad_id_format",
            IdError::BadIdBirthDate => "bad_id_birth_date",
            IdError::BadIdCheck => "bad_id_check",
            IdError::BadCreditCodeFormat => "bad_credit_code_format",
            IdError::BadCreditCodeCheck => "bad_credit_code_check",
            IdError::MissingPartyDetails => "missing_party_details",
        }
    }
}

/// GB 11643-1999: weights 2^(18-i) mod 11 over the first 17 digits.
const CITIZEN_ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// GB 11643-1999: the check character for each remainder mod 11.
const CITIZEN_ID_CHECK: &[u8; 11] = b"10X98765432";

/// Checks a citizen ID number: 17 digits, a real birth date on or before `today`, and the check digit.
pub fn check_citizen_id(s: &str, today: Date) -> Result<(), IdError> {
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
        return Err(IdError::BadIdFormat);
    }
    let birth = std::str::from_utf8(&b[6..14]).ok().and_then(|d| {
        let (y, m, day) = (d[..4].parse().ok()?, d[4..6].parse().ok()?, d[6..].parse().ok()?);
        Date::new(y, m, day).ok()
    });
    match birth {
        Some(d) if d <= today && d.year() >= 1900 => {}
        _ => return Err(IdError::BadIdBirthDate),
    }
    let sum: u32 = b[..17].iter().zip(CITIZEN_ID_WEIGHTS).map(|(c, w)| u32::from(c - b'0') * w).sum();
    if CITIZEN_ID_CHECK[(sum % 11) as usize] != b[17] {
        return Err(IdError::BadIdCheck);
    }
    Ok(())
}

/// GB 32100-2015: the 31 characters a credit code is written in; a character's value is its index.
const CREDIT_CODE_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// GB 32100-2015: weights 3^(i-1) mod 31 over the first 17 characters.
const CREDIT_CODE_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// Checks a unified social credit code: 18 characters of its alphabet and the check character.
pub fn check_credit_code(s: &str) -> Result<(), IdError> {
    let values: Option<Vec<u32>> =
        s.bytes().map(|c| CREDIT_CODE_ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)).collect();
    let Some(values) = values.filter(|v| v.len() == 18) else {
        return Err(IdError::BadCreditCodeFormat);
    };
    let sum: u32 = values[..17].iter().zip(CREDIT_CODE_WEIGHTS).map(|(v, w)| v * w).sum();
    if (31 - sum % 31) % 31 != values[17] {
        return Err(IdError::BadCreditCodeCheck);
    }
    Ok(())
}

impl Party {
    /// Trims the fields, upper-cases the identifier and checks it against the party's kind.
    pub fn parse(mut self, today: Date) -> Result<Party, IdError> {
        self.name = self.name.trim().to_string();
        self.address = self.address.trim().to_string();
        self.representative = self.representative.trim().to_string();
        self.phone = self.phone.trim().to_string();
        self.id_number = self.id_number.trim().to_ascii_uppercase();
        if self.name.is_empty() || self.address.is_empty() {
            return Err(IdError::MissingPartyDetails);
        }
        match self.kind {
            PartyKind::Person => check_citizen_id(&self.id_number, today)?,
            PartyKind::Organisation => check_credit_code(&self.id_number)?,
        }
        Ok(self)
    }

    /// The identifier as shown to roles without a need for it. A person's number keeps its region and last
    /// two characters; an organisation's credit code is public registration data and is shown whole.
    pub fn masked_id(&self) -> String {
        match self.kind {
            PartyKind::Person => mask_middle(&self.id_number, 6, 2),
            PartyKind::Organisation => self.id_number.clone(),
        }
    }

    /// The party with its personal data masked: the identifier, the phone and, for a person, all but the
    /// family name (for publication and for roles without a need to know).
    pub fn masked(&self) -> Party {
        let name = match self.kind {
            PartyKind::Person => mask_middle(&self.name, 1, 0),
            PartyKind::Organisation => self.name.clone(),
        };
        Party {
            kind: self.kind,
            name,
            id_number: self.masked_id(),
            address: self.address.clone(),
            representative: mask_middle(&self.representative, 1, 0),
            phone: if self.phone.is_empty() { String::new() } else { mask_middle(&self.phone, 3, 4) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = Date::constant(2026, 11, 28);

    #[test]
    fn citizen_id_numbers_gb_11643() {
        assert_eq!(check_citizen_id("11010519491231002X", TODAY), Ok(()));
        assert_eq!(check_citizen_id("110105194912310021", TODAY), Err(IdError::BadIdCheck));
        assert_eq!(check_citizen_id("11010519491331002X", TODAY), Err(IdError::BadIdBirthDate));
        assert_eq!(check_citizen_id("11010520991231002X", TODAY), Err(IdError::BadIdBirthDate), "born in the future");
        assert_eq!(check_citizen_id("11010519491231002x", TODAY), Err(IdError::BadIdFormat), "upper case only");
        assert_eq!(check_citizen_id("1101051949123100", TODAY), Err(IdError::BadIdFormat));
        assert_eq!(check_citizen_id("", TODAY), Err(IdError::BadIdFormat));
    }

    #[test]
    fn credit_codes_gb_32100() {
        assert_eq!(check_credit_code("91350100M000100Y43"), Ok(()));
        assert_eq!(check_credit_code("91110000802100433B"), Ok(()));
        assert_eq!(check_credit_code("91350100M000100Y44"), Err(IdError::BadCreditCodeCheck));
        assert_eq!(check_credit_code("91350100M000100I43"), Err(IdError::BadCreditCodeFormat), "I is not in the alphabet");
        assert_eq!(check_credit_code("91350100M000100Y4"), Err(IdError::BadCreditCodeFormat));
    }

    #[test]
    fn parties_are_checked_and_masked() {
        let person = Party {
            kind: PartyKind::Person,
            name: " 王小明 ".into(),
            id_number: "11010519491231002x".into(),
            address: "崇川区钟秀街道".into(),
            representative: String::new(),
            phone: "13912345678".into(),
        }
        .parse(TODAY)
        .unwrap();
        assert_eq!(person.name, "王小明");
        assert_eq!(person.masked_id(), "110105**********2X");
        let masked = person.masked();
        assert_eq!((masked.name.as_str(), masked.phone.as_str()), ("王**", "139****5678"));
        let org = Party {
            kind: PartyKind::Organisation,
            name: "某某餐饮有限公司".into(),
            id_number: "91350100M000100Y43".into(),
            address: "南通".into(),
            representative: "李四".into(),
            phone: String::new(),
        };
        assert_eq!(org.clone().parse(TODAY).unwrap().masked_id(), "91350100M000100Y43");
        let wrong_kind = Party { kind: PartyKind::Person, ..org.clone() };
        assert_eq!(wrong_kind.parse(TODAY), Err(IdError::BadIdFormat));
        assert_eq!(Party { address: " ".into(), ..org }.parse(TODAY), Err(IdError::MissingPartyDetails));
    }
}
