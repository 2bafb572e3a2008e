//! Roles and territory: who may do what, and where.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::division::DivisionCode;

/// A role a user account holds. The anonymous public has no account and so no role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    /// 局领导.
    Leader,
    /// 受理员 / 派遣员.
    Dispatcher,
    /// 执法队员.
    Officer,
    /// 协管员 / 辅助人员: assists, never decides.
    Auxiliary,
    /// 法制审核.
    LegalReviewer,
    /// 监督员.
    Supervisor,
    /// 检察监督: read-only oversight across its territory.
    Procuratorate,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Leader,
        Role::Dispatcher,
        Role::Officer,
        Role::Auxiliary,
        Role::LegalReviewer,
        Role::Supervisor,
        Role::Procuratorate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Leader => "leader",
            Role::Dispatcher => "dispatcher",
            Role::Officer => "officer",
            Role::Auxiliary => "auxiliary",
            Role::LegalReviewer => "legal_reviewer",
            Role::Supervisor => "supervisor",
            Role::Procuratorate => "procuratorate",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Roles that take enforcement decisions; an auxiliary may hold none of them.
    pub fn decides(self) -> bool {
        matches!(self, Role::Leader | Role::Officer | Role::LegalReviewer)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a `;`-separated role list, e.g. `officer;supervisor`.
pub fn parse_roles(s: &str) -> Result<Vec<Role>, String> {
    let mut roles = Vec::new();
    for part in s.split([';', ',', '|']).map(str::trim).filter(|p| !p.is_empty()) {
        let role = Role::parse(part).ok_or_else(|| format!("{part:?} is not a role"))?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles.sort();
    Ok(roles)
}

pub fn format_roles(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(";")
}

/// A signed-in user as seen by every authorization decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// The division subtree the user works in; every query is filtered by it.
    pub scope: DivisionCode,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }

    /// Whether an object located in `division` lies in the user's territory.
    pub fn covers(&self, division: &DivisionCode) -> bool {
        self.scope.covers(division)
    }

    /// Whether the user may see `division` for navigation: inside the scope, or one of the scope's ancestors
    /// (a street officer still sees the district and city it belongs to, but not the neighbouring streets).
    pub fn may_see_division(&self, division: &DivisionCode) -> bool {
        self.covers(division) || division.covers(&self.scope)
    }
}

/// The access rule attached to a route before any handler runs. Finer checks (territory, object) follow
/// inside the use-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without an account (an explicit allowlist).
    Public,
    /// Any signed-in user; the use-case filters by territory.
    SignedIn,
    /// Only users holding one of these roles.
    Roles(&'static [Role]),
}

impl Access {
    pub fn allows(&self, principal: Option<&Principal>) -> Result<(), Denial> {
        match (self, principal) {
            (Access::Public, _) => Ok(()),
            (_, None) => Err(Denial::Unauthenticated),
            (Access::SignedIn, Some(_)) => Ok(()),
            (Access::Roles(roles), Some(p)) if p.has_any(roles) => Ok(()),
            (Access::Roles(_), Some(_)) => Err(Denial::Forbidden),
        }
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    Unauthenticated,
    Forbidden,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[Role], scope: &str) -> Principal {
        Principal {
            username: "u".into(),
            display_name: "u".into(),
            roles: roles.to_vec(),
            scope: DivisionCode::parse(scope).unwrap(),
        }
    }

    #[test]
    fn roles_round_trip_and_reject_unknown() {
        assert_eq!(parse_roles("officer; supervisor;officer").unwrap(), vec![Role::Officer, Role::Supervisor]);
        assert!(parse_roles("officer;boss").is_err());
        assert_eq!(format_roles(&[Role::Admin, Role::Leader]), "admin;leader");
    }

    #[test]
    fn access_rules_decide() {
        let officer = principal(&[Role::Officer], "320613008000");
        assert_eq!(Access::Public.allows(None), Ok(()));
        assert_eq!(Access::SignedIn.allows(None), Err(Denial::Unauthenticated));
        assert_eq!(Access::Roles(&[Role::Admin]).allows(Some(&officer)), Err(Denial::Forbidden));
        assert_eq!(Access::Roles(&[Role::Admin, Role::Officer]).allows(Some(&officer)), Ok(()));
    }

    #[test]
    fn a_street_officer_sees_ancestors_but_not_neighbours() {
        let wenfeng = principal(&[Role::Officer], "320613008000");
        let code = |s: &str| DivisionCode::parse(s).unwrap();
        assert!(wenfeng.may_see_division(&code("320613000000")));
        assert!(wenfeng.may_see_division(&code("320600000000")));
        assert!(wenfeng.may_see_division(&code("320613008001")));
        assert!(!wenfeng.may_see_division(&code("320613007000")));
        assert!(!wenfeng.covers(&code("320613000000")));
    }
}
