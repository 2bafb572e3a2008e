//! Gridward's store on embedded SQLite: WAL journal, `synchronous=FULL` (an acknowledged write survives
//! power loss), foreign keys on, and a busy timeout so concurrent writers wait instead of failing.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use gridward_domain::access::format_roles;
use gridward_domain::division::{Division, DivisionCode, Level};
use gridward_domain::org::{Body, Staff, format_domains};
use gridward_store::decode::{self, StaffColumns};
use gridward_store::{Backend, BoundaryRecord, DbError, DbResult, LockoutPolicy, Page, SessionRecord, Store, UserRecord};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, SqlStr, SqlitePool};

pub struct SqliteStore {
    pool: SqlitePool,
}

fn db_err(e: sqlx::Error) -> DbError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() || d.is_foreign_key_violation() || d.is_check_violation() => {
            DbError::Conflict(d.message().to_string())
        }
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::ColumnNotFound(_) => DbError::Corrupt(e.to_string()),
        _ => DbError::Backend(e.to_string()),
    }
}

fn migrator() -> Migrator {
    Migrator::with_migrations(vec![Migration::new(
        1,
        "foundation".into(),
        MigrationType::Simple,
        SqlStr::from_static(include_str!("../migrations/0001_foundation.sql")),
        false,
    )])
}

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite:` URL.
    pub async fn connect(url: &str) -> DbResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(db_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(db_err)?;
        Ok(SqliteStore { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn limit(page: &Page) -> i64 {
    i64::from(page.limit.clamp(1, 1000))
}

fn division_row(r: &SqliteRow) -> DbResult<Division> {
    decode::division(
        r.try_get("code").map_err(db_err)?,
        r.try_get("name").map_err(db_err)?,
        r.try_get("level").map_err(db_err)?,
        r.try_get("parent_code").map_err(db_err)?,
        r.try_get("valid_from").map_err(db_err)?,
        r.try_get("valid_to").map_err(db_err)?,
    )
}

fn boundary_row(r: &SqliteRow) -> DbResult<BoundaryRecord> {
    let geometry: String = r.try_get("geometry").map_err(db_err)?;
    Ok(BoundaryRecord {
        code: decode::code(&r.try_get::<String, _>("code").map_err(db_err)?)?,
        geometry: serde_json::from_str(&geometry).map_err(|e| DbError::Corrupt(e.to_string()))?,
        synthetic: r.try_get("synthetic").map_err(db_err)?,
        source: r.try_get("source").map_err(db_err)?,
    })
}

fn body_row(r: &SqliteRow) -> DbResult<Body> {
    decode::body(
        r.try_get("code").map_err(db_err)?,
        r.try_get("name").map_err(db_err)?,
        r.try_get("kind").map_err(db_err)?,
        r.try_get("division_code").map_err(db_err)?,
        r.try_get("parent_code").map_err(db_err)?,
        r.try_get("domains").map_err(db_err)?,
    )
}

fn staff_row(r: &SqliteRow) -> DbResult<Staff> {
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

fn user_row(r: &SqliteRow) -> DbResult<UserRecord> {
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
        failed_logins: r.try_get("failed_logins").map_err(db_err)?,
        locked_until: r.try_get("locked_until").map_err(db_err)?,
        created_at: r.try_get("created_at").map_err(db_err)?,
    })
}

fn date_text(d: Option<gridward_domain::Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
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

    async fn body_divisions(&self) -> DbResult<HashMap<String, DivisionCode>> {
        let rows = sqlx::query("SELECT code, division_code FROM bodies")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let code: String = r.try_get(0).map_err(db_err)?;
                let division: String = r.try_get(1).map_err(db_err)?;
                Ok((code, decode::code(&division)?))
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
            "INSERT INTO users (username, display_name, password_hash, roles, scope_code, staff_no, active, failed_logins, locked_until, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(&u.password_hash)
        .bind(format_roles(&u.roles))
        .bind(u.scope.as_str())
        .bind(u.staff_no.as_deref())
        .bind(u.active)
        .bind(u.failed_logins)
        .bind(u.locked_until)
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
        let done = sqlx::query("UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE username = $1")
            .bind(username)
            .bind(password_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_login_failure(&self, username: &str, now: i64, policy: LockoutPolicy) -> DbResult<()> {
        sqlx::query(
            "UPDATE users SET failed_logins = failed_logins + 1,
             locked_until = CASE WHEN failed_logins + 1 >= $3 THEN $2 + $4 ELSE locked_until END
             WHERE username = $1",
        )
        .bind(username)
        .bind(now)
        .bind(policy.max_failures)
        .bind(policy.lock_seconds)
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(db_err)
    }

    async fn record_login_success(&self, username: &str) -> DbResult<()> {
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = $1")
            .bind(username)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db_err)
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

    async fn delete_expired_sessions(&self, now: i64) -> DbResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
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
