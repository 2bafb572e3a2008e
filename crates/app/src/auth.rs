//! Accounts and sessions: argon2 password hashes, random bearer tokens of which only a hash is stored,
//! a CSRF token per session, and a lock after repeated failed sign-ins.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gridward_domain::access::{Principal, Role};
use gridward_domain::division::DivisionCode;
use gridward_store::{Actor, SessionRecord, UserRecord};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::{App, actor_of, change, now};

/// How repeated failed sign-ins lock a username.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    pub max_failures: i64,
    pub lock_seconds: i64,
}

/// Five failures in a row lock a username for fifteen minutes.
pub const LOCKOUT: LockoutPolicy = LockoutPolicy { max_failures: 5, lock_seconds: 15 * 60 };
/// Longer names are refused before any work is done.
const MAX_USERNAME_BYTES: usize = 64;
/// Sign-in attempts older than this are forgotten by the periodic purge.
pub const ATTEMPT_MEMORY_SECONDS: i64 = 24 * 3600;
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
        return Err(AppError::bad_request("weak_password", format!("a password has at least {MIN_PASSWORD_CHARS} characters")));
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
    (3..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// An account with its current sign-in lock, as administrators see it.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: UserRecord,
    pub locked_until: Option<i64>,
}

impl App {
    /// Signs a user in. Every attempt is counted before the password is checked, and unknown usernames
    /// are counted, locked and hashed exactly like real ones, so neither timing nor answers reveal which
    /// accounts exist, and parallel guessing gets no more tries than serial guessing.
    pub async fn sign_in(&self, username: &str, password: &str) -> AppResult<NewSession> {
        let now = now();
        if username.is_empty() || username.len() > MAX_USERNAME_BYTES {
            return Err(AppError::BadCredentials);
        }
        let counted = self.store.count_login_attempt(username, now).await?;
        if let Some(until) = counted.locked_until.filter(|until| *until > now) {
            return Err(AppError::Locked { until });
        }
        if counted.attempts > LOCKOUT.max_failures {
            let until = now + LOCKOUT.lock_seconds;
            self.store.lock_login(username, until).await?;
            return Err(AppError::Locked { until });
        }
        let user = self.store.user(username).await?;
        let hash = user.as_ref().map_or_else(|| self.dummy_hash.to_string(), |u| u.password_hash.clone());
        let verified = self.verify_off_thread(password.to_string(), hash).await?;
        let Some(user) = user.filter(|u| verified && u.active) else {
            if counted.attempts >= LOCKOUT.max_failures {
                self.store.lock_login(username, now + LOCKOUT.lock_seconds).await?;
            }
            tracing::info!(username, attempts = counted.attempts, "failed sign-in");
            return Err(AppError::BadCredentials);
        };
        self.store.clear_login_attempts(username).await?;
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
        Ok(NewSession { token, csrf_token, expires_at, principal: principal_of(&user) })
    }

    /// Argon2 is deliberately slow: it runs on the blocking pool, a few at a time, so a flood of sign-ins
    /// neither stalls the async workers nor starts hundreds of threads.
    async fn verify_off_thread(&self, password: String, hash: String) -> AppResult<bool> {
        let _permit = self.verifiers.acquire().await.map_err(|e| AppError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|e| AppError::Internal(format!("password check failed: {e}")))
    }

    /// Resolves a bearer token or session cookie to its user.
    pub async fn authenticate(&self, token: &str) -> AppResult<Authenticated> {
        let Some((session, user)) = self.store.session(&token_hash(token), now()).await? else {
            return Err(AppError::Unauthenticated);
        };
        if !user.active {
            return Err(AppError::Unauthenticated);
        }
        Ok(Authenticated { principal: principal_of(&user), csrf_token: session.csrf_token })
    }

    pub async fn sign_out(&self, token: &str) -> AppResult<()> {
        self.store.delete_session(&token_hash(token)).await?;
        Ok(())
    }

    /// Creates an account after checking name, password policy, scope and the staff link.
    pub async fn create_user(&self, new: NewUser, actor: &Actor) -> AppResult<()> {
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
        if new.roles.contains(&Role::Auxiliary) && new.roles.iter().any(|r| r.decides()) {
            return Err(AppError::bad_request("auxiliary_decides", "an auxiliary account takes no deciding role"));
        }
        if self.store.division(&new.scope).await?.is_none() {
            return Err(AppError::bad_request("unknown_division", format!("division {} is not stored", new.scope)));
        }
        if let Some(no) = &new.staff_no {
            let staff = self
                .store
                .staff_member(no)
                .await?
                .ok_or_else(|| AppError::bad_request("unknown_staff", format!("staff {no} is not stored")))?;
            if staff.auxiliary && new.roles.iter().any(|r| r.decides()) {
                return Err(AppError::bad_request("auxiliary_decides", "auxiliary staff never take a deciding role"));
            }
        }
        let password_hash = hash_password(&new.password)?;
        self.store
            .create_user(
                &UserRecord {
                    username: new.username,
                    display_name: new.display_name,
                    password_hash,
                    roles: new.roles,
                    scope: new.scope,
                    staff_no: new.staff_no,
                    active: true,
                    created_at: now(),
                },
                &change(actor),
            )
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::Conflict(_) => AppError::Conflict("that username is taken".into()),
                other => other,
            })
    }

    /// Accounts inside an administrator's territory, with their locks.
    pub async fn users(&self, who: &Principal) -> AppResult<Vec<Account>> {
        if !who.has(Role::Admin) {
            return Err(AppError::Forbidden);
        }
        let now = now();
        let mut accounts = Vec::new();
        for user in self.store.users().await?.into_iter().filter(|u| who.covers(&u.scope)) {
            let locked_until = self.store.login_lock(&user.username, now).await?;
            accounts.push(Account { user, locked_until });
        }
        Ok(accounts)
    }

    /// Deletes expired sessions and forgotten sign-in attempts; the server runs it periodically.
    pub async fn purge_stale(&self) -> AppResult<u64> {
        let now = now();
        Ok(self.store.purge_stale(now, now - ATTEMPT_MEMORY_SECONDS).await?)
    }

    /// An administrator creates an account inside their own territory.
    pub async fn create_user_as(&self, who: &Principal, new: NewUser) -> AppResult<UserRecord> {
        if !who.has(Role::Admin) || !who.covers(&new.scope) {
            return Err(AppError::Forbidden);
        }
        // The linked staff member must work inside the administrator's territory too.
        if let Some(no) = &new.staff_no {
            let staff = self.store.staff_member(no).await?.ok_or(AppError::NotFound("staff"))?;
            let body = self.store.body(&staff.body_code).await?.ok_or(AppError::NotFound("staff"))?;
            if !who.covers(&body.division_code) {
                return Err(AppError::NotFound("staff"));
            }
        }
        let username = new.username.clone();
        self.create_user(new, &actor_of(who)).await?;
        self.store.user(&username).await?.ok_or(AppError::Internal("created account vanished".into()))
    }

    pub async fn set_password(&self, username: &str, password: &str, actor: &Actor) -> AppResult<()> {
        check_password_policy(password)?;
        let hash = hash_password(password)?;
        if self.store.set_password(username, &hash, &change(actor)).await? { Ok(()) } else { Err(AppError::NotFound("user")) }
    }
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
