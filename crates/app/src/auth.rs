//! Accounts and sessions: argon2 password hashes, random bearer tokens of which only a hash is stored,
//! a CSRF token per session, and a lock after repeated failed sign-ins.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gridward_domain::access::{Principal, Role};
use gridward_domain::division::DivisionCode;
use gridward_store::{LockoutPolicy, SessionRecord, UserRecord};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::{App, now};

/// Five failures in a row lock an account for fifteen minutes.
pub const LOCKOUT: LockoutPolicy = LockoutPolicy {
    max_failures: 5,
    lock_seconds: 15 * 60,
};
/// A session lasts twelve hours: one working shift with margin.
pub const SESSION_SECONDS: i64 = 12 * 3600;
pub const MIN_PASSWORD_CHARS: usize = 10;

/// What a successful sign-in hands back. The token is shown once and never stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: i64,
    pub principal: Principal,
}

/// A request's authenticated identity and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    pub csrf_token: String,
}

fn random_token() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> AppResult<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Checks a new password against the policy: long enough, and not only digits.
pub fn check_password_policy(password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::bad_request(
            "weak_password",
            format!("a password has at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err(AppError::bad_request("weak_password", "a password is not only digits"));
    }
    Ok(())
}

fn principal_of(user: &UserRecord) -> Principal {
    Principal {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        roles: user.roles.clone(),
        scope: user.scope.clone(),
    }
}

/// A new account's details.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub roles: Vec<Role>,
    pub scope: DivisionCode,
    pub staff_no: Option<String>,
}

fn valid_username(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

impl App {
    /// Signs a user in. Unknown users cost the same argon2 work as known ones, so timing does not reveal
    /// which usernames exist.
    pub async fn sign_in(&self, username: &str, password: &str) -> AppResult<NewSession> {
        let now = now();
        let Some(user) = self.store.user(username).await? else {
            let _ = verify_password(password, &self.dummy_hash);
            return Err(AppError::BadCredentials);
        };
        if let Some(until) = user.locked_until
            && until > now
        {
            return Err(AppError::Locked { until });
        }
        let hash = user.password_hash.clone();
        let password = password.to_string();
        let ok = tokio_free_verify(password, hash).await;
        if !ok || !user.active {
            self.store.record_login_failure(username, now, LOCKOUT).await?;
            tracing::info!(username, "failed sign-in");
            return Err(AppError::BadCredentials);
        }
        self.store.record_login_success(username).await?;
        let token = random_token()?;
        let csrf_token = random_token()?;
        let expires_at = now + SESSION_SECONDS;
        self.store
            .create_session(&SessionRecord {
                token_hash: token_hash(&token),
                username: user.username.clone(),
                csrf_token: csrf_token.clone(),
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(NewSession {
            token,
            csrf_token,
            expires_at,
            principal: principal_of(&user),
        })
    }

    /// Resolves a bearer token or session cookie to its user.
    pub async fn authenticate(&self, token: &str) -> AppResult<Authenticated> {
        let Some((session, user)) = self.store.session(&token_hash(token), now()).await? else {
            return Err(AppError::Unauthenticated);
        };
        if !user.active {
            return Err(AppError::Unauthenticated);
        }
        Ok(Authenticated {
            principal: principal_of(&user),
            csrf_token: session.csrf_token,
        })
    }

    pub async fn sign_out(&self, token: &str) -> AppResult<()> {
        self.store.delete_session(&token_hash(token)).await?;
        Ok(())
    }

    /// Creates an account after checking name, password policy, scope and the staff link.
    pub async fn create_user(&self, new: NewUser) -> AppResult<()> {
        if !valid_username(&new.username) {
            return Err(AppError::bad_request(
                "bad_username",
                "a username has 3 to 64 lowercase letters, digits, '.', '_' or '-'",
            ));
        }
        check_password_policy(&new.password)?;
        if new.roles.is_empty() {
            return Err(AppError::bad_request("bad_role", "an account holds at least one role"));
        }
        if self.store.division(&new.scope).await?.is_none() {
            return Err(AppError::bad_request(
                "unknown_division",
                format!("division {} is not stored", new.scope),
            ));
        }
        if let Some(no) = &new.staff_no {
            let staff = self
                .store
                .staff_member(no)
                .await?
                .ok_or_else(|| AppError::bad_request("unknown_staff", format!("staff {no} is not stored")))?;
            if staff.auxiliary && new.roles.iter().any(|r| r.decides()) {
                return Err(AppError::bad_request(
                    "auxiliary_decides",
                    "auxiliary staff never take a deciding role",
                ));
            }
        }
        let password_hash = hash_password(&new.password)?;
        self.store
            .create_user(&UserRecord {
                username: new.username,
                display_name: new.display_name,
                password_hash,
                roles: new.roles,
                scope: new.scope,
                staff_no: new.staff_no,
                active: true,
                failed_logins: 0,
                locked_until: None,
                created_at: now(),
            })
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::Conflict(_) => AppError::Conflict("that username is taken".into()),
                other => other,
            })
    }

    /// Accounts inside an administrator's territory.
    pub async fn users(&self, who: &Principal) -> AppResult<Vec<UserRecord>> {
        if !who.has(Role::Admin) {
            return Err(AppError::Forbidden);
        }
        Ok(self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| who.covers(&u.scope))
            .collect())
    }

    /// An administrator creates an account inside their own territory.
    pub async fn create_user_as(&self, who: &Principal, new: NewUser) -> AppResult<UserRecord> {
        if !who.has(Role::Admin) || !who.covers(&new.scope) {
            return Err(AppError::Forbidden);
        }
        let username = new.username.clone();
        self.create_user(new).await?;
        self.store
            .user(&username)
            .await?
            .ok_or(AppError::Internal("created account vanished".into()))
    }

    pub async fn set_password(&self, username: &str, password: &str) -> AppResult<()> {
        check_password_policy(password)?;
        let hash = hash_password(password)?;
        if self.store.set_password(username, &hash).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("user"))
        }
    }
}

/// Argon2 is deliberately slow; it runs on a blocking thread so it never stalls the async workers.
async fn tokio_free_verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("wrong horse", &a));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn policy_refuses_weak_passwords() {
        assert!(check_password_policy("short").is_err());
        assert!(check_password_policy("1234567890").is_err());
        assert!(check_password_policy("long enough 1").is_ok());
        assert_eq!(token_hash("a").len(), 64);
        assert!(valid_username("officer.zhongxiu") && !valid_username("Officer") && !valid_username("ab"));
    }
}
