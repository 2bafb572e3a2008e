//! The storage contract. Only the backend crates (`store-sqlite`, `store-postgres`) know SQL; everything
//! else talks to a `dyn Store`. Each method is one whole step of a use-case and runs in one transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use gridward_domain::access::Role;
use gridward_domain::division::{Division, DivisionCode, Level};
use gridward_domain::org::{Body, BodyLink, Staff};
use serde::Serialize;

/// A storage failure, in the few shapes callers act on.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique or foreign-key rule refused the change; nothing was written.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data could not be read back into domain types.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database itself failed (connection, IO, syntax).
    #[error("database error: {0}")]
    Backend(String),
}

pub type DbResult<T> = Result<T, DbError>;

/// Which engine is behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A division's outline, as a GeoJSON geometry (MultiPolygon) in GCJ-02 lon/lat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoundaryRecord {
    pub code: DivisionCode,
    pub geometry: serde_json::Value,
    /// True when the outline was generated (no public street or community boundaries exist).
    pub synthetic: bool,
    /// Where the outline came from, for attribution.
    pub source: String,
}

/// A user account as stored. The password hash never leaves the app crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub scope: DivisionCode,
    pub staff_no: Option<String>,
    pub active: bool,
    pub created_at: i64,
}

/// A signed-in session. Only a hash of the token is stored, so a leaked database grants no sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub username: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Sign-in attempts counted for one username since its last success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempts {
    /// Attempts counted so far, this one included (a lock that ran out starts the count again).
    pub attempts: i64,
    /// Unix seconds until which sign-in is refused, when locked.
    pub locked_until: Option<i64>,
}

/// Pages through a list ordered by a text key: rows after `after`, at most `limit`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub after: Option<String>,
    pub limit: u32,
}

#[async_trait]
pub trait Store: Send + Sync {
    fn backend(&self) -> Backend;

    /// Applies this backend's migrations that are not applied yet.
    async fn migrate(&self) -> DbResult<()>;

    /// Cheap liveness check for `/healthz`.
    async fn ping(&self) -> DbResult<()>;

    // Divisions.

    /// The level of every stored division, for validating an import against what exists.
    async fn division_levels(&self) -> DbResult<HashMap<DivisionCode, Level>>;
    /// Inserts or updates divisions and writes the given boundaries, all in one transaction.
    async fn upsert_divisions(&self, divisions: &[Division], boundaries: &[BoundaryRecord]) -> DbResult<()>;
    async fn division(&self, code: &DivisionCode) -> DbResult<Option<Division>>;
    /// Children of `parent` ordered by code; `page.after` is a code.
    async fn child_divisions(&self, parent: &DivisionCode, page: &Page) -> DbResult<Vec<Division>>;
    /// Every division, ordered by code (for export).
    async fn all_divisions(&self) -> DbResult<Vec<Division>>;
    async fn boundary(&self, code: &DivisionCode) -> DbResult<Option<BoundaryRecord>>;
    /// Boundaries of the children of `parent`, ordered by code.
    async fn child_boundaries(&self, parent: &DivisionCode) -> DbResult<Vec<BoundaryRecord>>;

    // Organisation.

    /// The division and parent of every stored body, keyed by body code.
    async fn body_links(&self) -> DbResult<HashMap<String, BodyLink>>;
    async fn upsert_bodies(&self, bodies: &[Body]) -> DbResult<()>;
    async fn body(&self, code: &str) -> DbResult<Option<Body>>;
    /// Bodies whose division lies inside `territory`, ordered by code; `page.after` is a body code.
    async fn bodies_within(&self, territory: &DivisionCode, page: &Page) -> DbResult<Vec<Body>>;
    /// Credential number → staff number, for every stored credential.
    async fn credential_holders(&self) -> DbResult<HashMap<String, String>>;
    async fn upsert_staff(&self, staff: &[Staff]) -> DbResult<()>;
    async fn staff_member(&self, staff_no: &str) -> DbResult<Option<Staff>>;
    /// Staff of one body ordered by staff number; `page.after` is a staff number.
    async fn staff_of_body(&self, body_code: &str, page: &Page) -> DbResult<Vec<Staff>>;
    /// Staff whose body lies inside `territory`, ordered by staff number (for export).
    async fn staff_within(&self, territory: &DivisionCode) -> DbResult<Vec<Staff>>;

    // Accounts and sessions.

    /// Creates an account; `Conflict` when the username is taken.
    async fn create_user(&self, user: &UserRecord) -> DbResult<()>;
    async fn user(&self, username: &str) -> DbResult<Option<UserRecord>>;
    async fn users(&self) -> DbResult<Vec<UserRecord>>;
    /// Replaces the password hash, ends the user's sessions and clears any lock, in one transaction.
    /// Returns false when no such user exists.
    async fn set_password(&self, username: &str, password_hash: &str) -> DbResult<bool>;
    /// Counts a sign-in attempt before its password is checked, atomically, so that parallel attempts
    /// cannot slip past the limit. A lock that ran out by `now` is lifted and the count starts again.
    async fn count_login_attempt(&self, username: &str, now: i64) -> DbResult<LoginAttempts>;
    async fn lock_login(&self, username: &str, until: i64) -> DbResult<()>;
    /// Forgets the attempts after a successful sign-in.
    async fn clear_login_attempts(&self, username: &str) -> DbResult<()>;
    /// The time until which `username` is locked, if it is locked at `now`.
    async fn login_lock(&self, username: &str, now: i64) -> DbResult<Option<i64>>;
    async fn create_session(&self, session: &SessionRecord) -> DbResult<()>;
    /// The live session for a token hash together with its user.
    async fn session(&self, token_hash: &str, now: i64) -> DbResult<Option<(SessionRecord, UserRecord)>>;
    async fn delete_session(&self, token_hash: &str) -> DbResult<bool>;
    /// Deletes expired sessions and attempt records untouched since `attempts_before`; returns rows deleted.
    async fn purge_stale(&self, now: i64, attempts_before: i64) -> DbResult<u64>;

    // Seeds.

    /// Whether a named seed (e.g. the demo city) was already loaded.
    async fn seed_applied(&self, name: &str) -> DbResult<bool>;
    async fn mark_seed_applied(&self, name: &str, at: i64) -> DbResult<()>;
}

/// The SQL both backends share. SQLite and PostgreSQL accept the same statements for everything stored so
/// far (`$n` placeholders, `ON CONFLICT … DO UPDATE`, `LIKE` prefixes), so each backend crate expands this
/// once with its own pool, row type and error mapping, and keeps only connection setup and migrations.
/// The caller must have `migrator` and the `use` items of its `lib.rs` in scope.
#[macro_export]
macro_rules! impl_sql_store {
    ($store:ty, $row:ty, $backend:expr) => {
        /// Maps constraint violations to `Conflict` so callers can tell refused input from failures.
        fn db_err(e: sqlx::Error) -> DbError {
            match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() || d.is_foreign_key_violation() || d.is_check_violation() => {
                    DbError::Conflict(d.message().to_string())
                }
                sqlx::Error::ColumnDecode { .. } | sqlx::Error::ColumnNotFound(_) => DbError::Corrupt(e.to_string()),
                _ => DbError::Backend(e.to_string()),
            }
        }

        fn limit(page: &Page) -> i64 {
            i64::from(page.limit.clamp(1, 1000))
        }

        fn division_row(r: &$row) -> DbResult<Division> {
            decode::division(
                r.try_get("code").map_err(db_err)?,
                r.try_get("name").map_err(db_err)?,
                r.try_get("level").map_err(db_err)?,
                r.try_get("parent_code").map_err(db_err)?,
                r.try_get("valid_from").map_err(db_err)?,
                r.try_get("valid_to").map_err(db_err)?,
            )
        }

        fn boundary_row(r: &$row) -> DbResult<BoundaryRecord> {
            let geometry: String = r.try_get("geometry").map_err(db_err)?;
            Ok(BoundaryRecord {
                code: decode::code(&r.try_get::<String, _>("code").map_err(db_err)?)?,
                geometry: serde_json::from_str(&geometry).map_err(|e| DbError::Corrupt(e.to_string()))?,
                synthetic: r.try_get("synthetic").map_err(db_err)?,
                source: r.try_get("source").map_err(db_err)?,
            })
        }

        fn body_row(r: &$row) -> DbResult<Body> {
            decode::body(
                r.try_get("code").map_err(db_err)?,
                r.try_get("name").map_err(db_err)?,
                r.try_get("kind").map_err(db_err)?,
                r.try_get("division_code").map_err(db_err)?,
                r.try_get("parent_code").map_err(db_err)?,
                r.try_get("domains").map_err(db_err)?,
            )
        }

        fn staff_row(r: &$row) -> DbResult<Staff> {
            decode::staff(StaffColumns {
                staff_no: r.try_get("staff_no").map_err(db_err)?,
                name: r.try_get("name").map_err(db_err)?,
                body_code: r.try_get("body_code").map_err(db_err)?,
                roles: r.try_get("roles").map_err(db_err)?,
                credential_no: r.try_get("credential_no").map_err(db_err)?,
                credential_valid_from: r.try_get("credential_valid_from").map_err(db_err)?,
                credential_valid_to: r.try_get("credential_valid_to").map_err(db_err)?,
                qualification_domains: r.try_get("qualification_domains").map_err(db_err)?,
                auxiliary: r.try_get("auxiliary").map_err(db_err)?,
                active: r.try_get("active").map_err(db_err)?,
            })
        }

        fn user_row(r: &$row) -> DbResult<UserRecord> {
            let roles: String = r.try_get("roles").map_err(db_err)?;
            let scope: String = r.try_get("scope_code").map_err(db_err)?;
            Ok(UserRecord {
                username: r.try_get("username").map_err(db_err)?,
                display_name: r.try_get("display_name").map_err(db_err)?,
                password_hash: r.try_get("password_hash").map_err(db_err)?,
                roles: decode::roles(&roles)?,
                scope: decode::code(&scope)?,
                staff_no: r.try_get("staff_no").map_err(db_err)?,
                active: r.try_get("active").map_err(db_err)?,
                created_at: r.try_get("created_at").map_err(db_err)?,
            })
        }

        fn date_text(d: Option<gridward_domain::Date>) -> Option<String> {
            d.map(|d| d.to_string())
        }

        #[async_trait::async_trait]
        impl Store for $store {
            fn backend(&self) -> Backend {
                $backend
            }

            async fn migrate(&self) -> DbResult<()> {
                migrator().run(&self.pool).await.map_err(|e| DbError::Backend(e.to_string()))
            }

            async fn ping(&self) -> DbResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ()).map_err(db_err)
            }

            async fn division_levels(&self) -> DbResult<HashMap<DivisionCode, Level>> {
                let rows = sqlx::query("SELECT code, level FROM divisions")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        let code: String = r.try_get(0).map_err(db_err)?;
                        let level: String = r.try_get(1).map_err(db_err)?;
                        Ok((decode::code(&code)?, Level::parse(&level).ok_or(DbError::Corrupt(level))?))
                    })
                    .collect()
            }

            async fn upsert_divisions(&self, divisions: &[Division], boundaries: &[BoundaryRecord]) -> DbResult<()> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                for d in divisions {
                    sqlx::query(
                        "INSERT INTO divisions (code, name, level, parent_code, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
                         parent_code = excluded.parent_code, valid_from = excluded.valid_from, valid_to = excluded.valid_to",
                    )
                    .bind(d.code.as_str())
                    .bind(&d.name)
                    .bind(d.level.as_str())
                    .bind(d.parent_code.as_ref().map(|c| c.as_str()))
                    .bind(date_text(d.valid_from))
                    .bind(date_text(d.valid_to))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                for b in boundaries {
                    sqlx::query(
                        "INSERT INTO division_boundaries (code, geometry, synthetic, source) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (code) DO UPDATE SET geometry = excluded.geometry, synthetic = excluded.synthetic, source = excluded.source",
                    )
                    .bind(b.code.as_str())
                    .bind(b.geometry.to_string())
                    .bind(b.synthetic)
                    .bind(&b.source)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn division(&self, code: &DivisionCode) -> DbResult<Option<Division>> {
                let row = sqlx::query("SELECT * FROM divisions WHERE code = $1")
                    .bind(code.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(division_row).transpose()
            }

            async fn child_divisions(&self, parent: &DivisionCode, page: &Page) -> DbResult<Vec<Division>> {
                let rows = sqlx::query("SELECT * FROM divisions WHERE parent_code = $1 AND code > $2 ORDER BY code LIMIT $3")
                    .bind(parent.as_str())
                    .bind(page.after.as_deref().unwrap_or(""))
                    .bind(limit(page))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(division_row).collect()
            }

            async fn all_divisions(&self) -> DbResult<Vec<Division>> {
                let rows = sqlx::query("SELECT * FROM divisions ORDER BY code")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(division_row).collect()
            }

            async fn boundary(&self, code: &DivisionCode) -> DbResult<Option<BoundaryRecord>> {
                let row = sqlx::query("SELECT * FROM division_boundaries WHERE code = $1")
                    .bind(code.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(boundary_row).transpose()
            }

            async fn child_boundaries(&self, parent: &DivisionCode) -> DbResult<Vec<BoundaryRecord>> {
                let rows = sqlx::query(
                    "SELECT b.* FROM division_boundaries b JOIN divisions d ON d.code = b.code WHERE d.parent_code = $1 ORDER BY b.code",
                )
                .bind(parent.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.iter().map(boundary_row).collect()
            }

            async fn body_links(&self) -> DbResult<HashMap<String, gridward_domain::org::BodyLink>> {
                let rows = sqlx::query("SELECT code, division_code, parent_code FROM bodies").fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        let code: String = r.try_get(0).map_err(db_err)?;
                        let division: String = r.try_get(1).map_err(db_err)?;
                        let parent: Option<String> = r.try_get(2).map_err(db_err)?;
                        Ok((code, gridward_domain::org::BodyLink { division: $crate::decode::code(&division)?, parent }))
                    })
                    .collect()
            }

            async fn upsert_bodies(&self, bodies: &[Body]) -> DbResult<()> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                for b in bodies {
                    sqlx::query(
                        "INSERT INTO bodies (code, name, kind, division_code, parent_code, domains) VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, division_code = excluded.division_code,
                         parent_code = excluded.parent_code, domains = excluded.domains",
                    )
                    .bind(&b.code)
                    .bind(&b.name)
                    .bind(b.kind.as_str())
                    .bind(b.division_code.as_str())
                    .bind(b.parent_code.as_deref())
                    .bind(format_domains(&b.domains))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn body(&self, code: &str) -> DbResult<Option<Body>> {
                let row = sqlx::query("SELECT * FROM bodies WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(body_row).transpose()
            }

            async fn bodies_within(&self, territory: &DivisionCode, page: &Page) -> DbResult<Vec<Body>> {
                let rows = sqlx::query("SELECT * FROM bodies WHERE division_code LIKE $1 AND code > $2 ORDER BY code LIMIT $3")
                    .bind(format!("{}%", territory.territory_prefix()))
                    .bind(page.after.as_deref().unwrap_or(""))
                    .bind(limit(page))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(body_row).collect()
            }

            async fn credential_holders(&self) -> DbResult<HashMap<String, String>> {
                let rows = sqlx::query("SELECT credential_no, staff_no FROM staff WHERE credential_no IS NOT NULL")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter()
                    .map(|r| Ok((r.try_get(0).map_err(db_err)?, r.try_get(1).map_err(db_err)?)))
                    .collect()
            }

            async fn upsert_staff(&self, staff: &[Staff]) -> DbResult<()> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                for s in staff {
                    let c = s.credential.as_ref();
                    sqlx::query(
                        "INSERT INTO staff (staff_no, name, body_code, roles, credential_no, credential_valid_from, credential_valid_to,
                         qualification_domains, auxiliary, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                         ON CONFLICT (staff_no) DO UPDATE SET name = excluded.name, body_code = excluded.body_code, roles = excluded.roles,
                         credential_no = excluded.credential_no, credential_valid_from = excluded.credential_valid_from,
                         credential_valid_to = excluded.credential_valid_to, qualification_domains = excluded.qualification_domains,
                         auxiliary = excluded.auxiliary, active = excluded.active",
                    )
                    .bind(&s.staff_no)
                    .bind(&s.name)
                    .bind(&s.body_code)
                    .bind(format_roles(&s.roles))
                    .bind(c.map(|c| c.number.as_str()))
                    .bind(c.map(|c| c.valid_from.to_string()))
                    .bind(c.map(|c| c.valid_to.to_string()))
                    .bind(c.map(|c| format_domains(&c.domains)))
                    .bind(s.auxiliary)
                    .bind(s.active)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn staff_member(&self, staff_no: &str) -> DbResult<Option<Staff>> {
                let row = sqlx::query("SELECT * FROM staff WHERE staff_no = $1")
                    .bind(staff_no)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(staff_row).transpose()
            }

            async fn staff_of_body(&self, body_code: &str, page: &Page) -> DbResult<Vec<Staff>> {
                let rows = sqlx::query("SELECT * FROM staff WHERE body_code = $1 AND staff_no > $2 ORDER BY staff_no LIMIT $3")
                    .bind(body_code)
                    .bind(page.after.as_deref().unwrap_or(""))
                    .bind(limit(page))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(staff_row).collect()
            }

            async fn staff_within(&self, territory: &DivisionCode) -> DbResult<Vec<Staff>> {
                let rows = sqlx::query(
                    "SELECT s.* FROM staff s JOIN bodies b ON b.code = s.body_code WHERE b.division_code LIKE $1 ORDER BY s.staff_no",
                )
                .bind(format!("{}%", territory.territory_prefix()))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.iter().map(staff_row).collect()
            }

            async fn create_user(&self, u: &UserRecord) -> DbResult<()> {
                sqlx::query(
                    "INSERT INTO users (username, display_name, password_hash, roles, scope_code, staff_no, active, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&u.username)
                .bind(&u.display_name)
                .bind(&u.password_hash)
                .bind(format_roles(&u.roles))
                .bind(u.scope.as_str())
                .bind(u.staff_no.as_deref())
                .bind(u.active)
                .bind(u.created_at)
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err(db_err)
            }

            async fn user(&self, username: &str) -> DbResult<Option<UserRecord>> {
                let row = sqlx::query("SELECT * FROM users u WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(user_row).transpose()
            }

            async fn users(&self) -> DbResult<Vec<UserRecord>> {
                let rows = sqlx::query("SELECT * FROM users u ORDER BY username")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(user_row).collect()
            }

            async fn set_password(&self, username: &str, password_hash: &str) -> DbResult<bool> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE username = $1")
                    .bind(username)
                    .bind(password_hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                sqlx::query("DELETE FROM sessions WHERE username = $1").bind(username).execute(&mut *tx).await.map_err(db_err)?;
                sqlx::query("DELETE FROM login_attempts WHERE username = $1").bind(username).execute(&mut *tx).await.map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn count_login_attempt(&self, username: &str, now: i64) -> DbResult<$crate::LoginAttempts> {
                let row = sqlx::query(
                    "INSERT INTO login_attempts (username, attempts, locked_until, last_attempt) VALUES ($1, 1, NULL, $2)
                     ON CONFLICT (username) DO UPDATE SET
                     attempts = CASE WHEN login_attempts.locked_until IS NOT NULL AND login_attempts.locked_until <= $2
                                THEN 1 ELSE login_attempts.attempts + 1 END,
                     locked_until = CASE WHEN login_attempts.locked_until IS NOT NULL AND login_attempts.locked_until <= $2
                                THEN NULL ELSE login_attempts.locked_until END,
                     last_attempt = $2
                     RETURNING attempts, locked_until",
                )
                .bind(username)
                .bind(now)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
                Ok($crate::LoginAttempts {
                    attempts: row.try_get("attempts").map_err(db_err)?,
                    locked_until: row.try_get("locked_until").map_err(db_err)?,
                })
            }

            async fn lock_login(&self, username: &str, until: i64) -> DbResult<()> {
                sqlx::query("UPDATE login_attempts SET locked_until = $2 WHERE username = $1")
                    .bind(username)
                    .bind(until)
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(db_err)
            }

            async fn clear_login_attempts(&self, username: &str) -> DbResult<()> {
                sqlx::query("DELETE FROM login_attempts WHERE username = $1")
                    .bind(username)
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(db_err)
            }

            async fn login_lock(&self, username: &str, now: i64) -> DbResult<Option<i64>> {
                let row = sqlx::query("SELECT locked_until FROM login_attempts WHERE username = $1 AND locked_until > $2")
                    .bind(username)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                row.map(|r| r.try_get("locked_until").map_err(db_err)).transpose()
            }

            async fn create_session(&self, s: &SessionRecord) -> DbResult<()> {
                sqlx::query("INSERT INTO sessions (token_hash, username, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&s.token_hash)
                    .bind(&s.username)
                    .bind(&s.csrf_token)
                    .bind(s.created_at)
                    .bind(s.expires_at)
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(db_err)
            }

            async fn session(&self, token_hash: &str, now: i64) -> DbResult<Option<(SessionRecord, UserRecord)>> {
                let row = sqlx::query(
                    "SELECT s.token_hash, s.csrf_token, s.created_at AS session_created_at, s.expires_at, u.*
                     FROM sessions s JOIN users u ON u.username = s.username WHERE s.token_hash = $1 AND s.expires_at > $2",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                let Some(r) = row else { return Ok(None) };
                let user = user_row(&r)?;
                let session = SessionRecord {
                    token_hash: r.try_get("token_hash").map_err(db_err)?,
                    username: user.username.clone(),
                    csrf_token: r.try_get("csrf_token").map_err(db_err)?,
                    created_at: r.try_get("session_created_at").map_err(db_err)?,
                    expires_at: r.try_get("expires_at").map_err(db_err)?,
                };
                Ok(Some((session, user)))
            }

            async fn delete_session(&self, token_hash: &str) -> DbResult<bool> {
                let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn purge_stale(&self, now: i64, attempts_before: i64) -> DbResult<u64> {
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                let sessions =
                    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&mut *tx).await.map_err(db_err)?;
                let attempts = sqlx::query(
                    "DELETE FROM login_attempts WHERE last_attempt < $1 AND (locked_until IS NULL OR locked_until <= $2)",
                )
                .bind(attempts_before)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(sessions.rows_affected() + attempts.rows_affected())
            }

            async fn seed_applied(&self, name: &str) -> DbResult<bool> {
                let row = sqlx::query("SELECT 1 FROM seeds WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(row.is_some())
            }

            async fn mark_seed_applied(&self, name: &str, at: i64) -> DbResult<()> {
                sqlx::query("INSERT INTO seeds (name, applied_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind(at)
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(db_err)
            }
        }
    };
}

/// Turns stored columns back into domain values. Both backends store the same text forms, so both use
/// these, and a row that no longer parses is reported as `Corrupt` instead of crashing.
pub mod decode {
    use gridward_domain::access::{Role, parse_roles};
    use gridward_domain::division::{Division, DivisionCode, Level};
    use gridward_domain::org::{Body, BodyKind, Credential, Staff, parse_domains};

    use crate::DbError;

    fn corrupt(what: &str, value: &str) -> DbError {
        DbError::Corrupt(format!("{what} {value:?}"))
    }

    pub fn code(s: &str) -> Result<DivisionCode, DbError> {
        DivisionCode::parse(s).map_err(|_| corrupt("division code", s))
    }

    pub fn date(s: Option<String>) -> Result<Option<jiff_date::Date>, DbError> {
        s.map(|s| s.parse().map_err(|_| corrupt("date", &s))).transpose()
    }

    pub fn roles(s: &str) -> Result<Vec<Role>, DbError> {
        parse_roles(s).map_err(|_| corrupt("roles", s))
    }

    pub fn division(
        code_text: String,
        name: String,
        level: String,
        parent: Option<String>,
        valid_from: Option<String>,
        valid_to: Option<String>,
    ) -> Result<Division, DbError> {
        Ok(Division {
            code: code(&code_text)?,
            name,
            level: Level::parse(&level).ok_or_else(|| corrupt("level", &level))?,
            parent_code: parent.as_deref().map(code).transpose()?,
            valid_from: date(valid_from)?,
            valid_to: date(valid_to)?,
        })
    }

    pub fn body(
        code_text: String,
        name: String,
        kind: String,
        division: String,
        parent: Option<String>,
        domains: String,
    ) -> Result<Body, DbError> {
        Ok(Body {
            code: code_text,
            name,
            kind: BodyKind::parse(&kind).ok_or_else(|| corrupt("body kind", &kind))?,
            division_code: code(&division)?,
            parent_code: parent,
            domains: parse_domains(&domains).map_err(|_| corrupt("domains", &domains))?,
        })
    }

    /// The stored columns of one staff row.
    pub struct StaffColumns {
        pub staff_no: String,
        pub name: String,
        pub body_code: String,
        pub roles: String,
        pub credential_no: Option<String>,
        pub credential_valid_from: Option<String>,
        pub credential_valid_to: Option<String>,
        pub qualification_domains: Option<String>,
        pub auxiliary: bool,
        pub active: bool,
    }

    pub fn staff(c: StaffColumns) -> Result<Staff, DbError> {
        let credential = match c.credential_no {
            None => None,
            Some(number) => Some(Credential {
                number,
                valid_from: date(c.credential_valid_from)?.ok_or_else(|| corrupt("credential start", ""))?,
                valid_to: date(c.credential_valid_to)?.ok_or_else(|| corrupt("credential end", ""))?,
                domains: parse_domains(c.qualification_domains.as_deref().unwrap_or(""))
                    .map_err(|_| corrupt("domains", c.qualification_domains.as_deref().unwrap_or("")))?,
            }),
        };
        Ok(Staff {
            staff_no: c.staff_no,
            name: c.name,
            body_code: c.body_code,
            roles: roles(&c.roles)?,
            credential,
            auxiliary: c.auxiliary,
            active: c.active,
        })
    }

    /// Re-exported so backends need no direct jiff dependency for dates.
    pub mod jiff_date {
        pub use gridward_domain::Date;
    }
}
