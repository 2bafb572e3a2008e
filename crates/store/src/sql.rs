//! The SQL both backends run, as one macro each backend crate expands with its own types.

/// The SQL both backends share. SQLite and PostgreSQL accept the same statements for everything stored so
/// far (`$n` placeholders, `ON CONFLICT … DO UPDATE`, `LIKE` prefixes), so each backend crate expands this
/// once with its own pool, row type and error mapping, and keeps only connection setup and migrations.
/// The caller must have `migrator` and the `use` items of its `lib.rs` in scope.
/// `$begin_recorded` begins a transaction holding the ledger's write lock; `$one_round_trip` says whether
/// the backend runs several statements with parameters in one call (SQLite does, PostgreSQL does not);
/// `$latest_seq` is the SQL for the number of the entry just inserted in this transaction;
/// `$entries_page` selects entries from `$1` on, at most `$2`: their count `n`, the last one's number
/// `last_seq`, and the entries joined into one text `page` (see `ledger::entries_in_page`).
#[macro_export]
macro_rules! impl_sql_store {
    ($store:ty, $db:ty, $row:ty, $backend:expr, $begin_recorded:expr, $one_round_trip:expr, $latest_seq:expr, $entries_page:expr) => {
        impl $store {
            /// Begins a transaction that holds the ledger's write lock from its first statement
            /// (`$begin_recorded`: `BEGIN IMMEDIATE` on SQLite, a row lock on PostgreSQL), so entries get
            /// consecutive numbers with concurrent writers, and returns the ledger's algorithm.
            async fn begin_recorded(&self) -> DbResult<(sqlx::Transaction<'static, $db>, gridward_ledger::HashAlgorithm)> {
                let algorithm = self.ledger_algorithm().await?;
                Ok((self.writer.begin_with($begin_recorded).await.map_err(db_err)?, algorithm))
            }

            /// The algorithm fixed when the ledger was created, read once.
            async fn ledger_algorithm(&self) -> DbResult<gridward_ledger::HashAlgorithm> {
                if let Some(algorithm) = self.algorithm.get() {
                    return Ok(*algorithm);
                }
                let text: Option<String> =
                    sqlx::query_scalar("SELECT algorithm FROM ledger_state WHERE id = 1").fetch_optional(&self.pool).await.map_err(db_err)?;
                let algorithm = $crate::ledger::algorithm(&text.ok_or_else(|| DbError::Corrupt("the ledger was never created".into()))?)?;
                Ok(*self.algorithm.get_or_init(|| algorithm))
            }

            /// Integrates up to one page of entries into the tree; returns the head and whether more wait.
            async fn integrate_page(&self) -> DbResult<(gridward_ledger::TreeHead, bool)> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let state = sqlx::query("SELECT size, frontier FROM ledger_state WHERE id = 1").fetch_one(&mut *tx).await.map_err(db_err)?;
                let size = u64::try_from(state.try_get::<i64, _>("size").map_err(db_err)?).map_err(|_| DbError::Corrupt("ledger size".into()))?;
                let frontier = $crate::ledger::decode_frontier(size, &state.try_get::<String, _>("frontier").map_err(db_err)?)?;
                let page = sqlx::query($entries_page)
                    .bind(size as i64)
                    .bind(i64::from(INTEGRATION_PAGE))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let rows = $crate::ledger::decode_entries_page(&entries_page_row(&page)?.text)?;
                if rows.is_empty() {
                    return Ok(($crate::ledger::head(algorithm, size, frontier)?, false));
                }
                let mut integration = $crate::ledger::Integration::open(algorithm, size, frontier.clone())?;
                for row in &rows {
                    integration.append(&row.entry)?;
                }
                let (new_size, nodes, new_frontier) = integration.finish();
                insert_nodes(&mut tx, &nodes).await?;
                sqlx::query("UPDATE ledger_state SET size = $1, frontier = $2 WHERE id = 1")
                    .bind(new_size as i64)
                    .bind(&new_frontier)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                let head = $crate::ledger::head(algorithm, new_size, $crate::ledger::decode_frontier(new_size, &new_frontier)?)?;
                Ok((head, rows.len() == INTEGRATION_PAGE as usize))
            }
        }

        /// Maps constraint violations to `Conflict` so callers can tell refused input from failures.
        fn db_err(e: sqlx::Error) -> DbError {
            match &e {
                // Raised by the triggers that keep the record whole (see the migrations).
                sqlx::Error::Database(d) if d.message().contains("unrecorded_change") || d.message().contains("ledger_append_only") => {
                    DbError::LedgerRule(d.message().to_string())
                }
                sqlx::Error::Database(d) if d.is_unique_violation() || d.is_foreign_key_violation() || d.is_check_violation() => {
                    DbError::Conflict(d.message().to_string())
                }
                sqlx::Error::ColumnDecode { .. } | sqlx::Error::ColumnNotFound(_) => DbError::Corrupt(e.to_string()),
                _ => DbError::Backend(e.to_string()),
            }
        }

        type Arguments = <$db as sqlx::Database>::Arguments;

        /// The entry insert every recorded write runs first.
        const ENTRY_INSERT: &str = "INSERT INTO ledger_entries (seq, recorded_at, actor, role, action, object_type, object_id, jurisdiction,
            payload, payload_digest) VALUES ((SELECT coalesce(max(seq) + 1, 0) FROM ledger_entries), $1, $2, $3, $4, $5, $6, $7, $8, $9)";

        /// The statement run after the entry for `data_sql`: `{seq}` filled in, and on SQLite the entry
        /// insert in front. Built once per call site, since every write runs one.
        fn recorded_sql(data_sql: &'static str) -> &'static str {
            static BUILT: std::sync::LazyLock<std::sync::Mutex<HashMap<usize, &'static str>>> = std::sync::LazyLock::new(Default::default);
            let mut built = BUILT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            built.entry(data_sql.as_ptr() as usize).or_insert_with(|| {
                let data = data_sql.replace("{seq}", $latest_seq);
                let sql = if $one_round_trip { format!("{ENTRY_INSERT}; {}", $crate::sql::shift_placeholders(&data, 9)) } else { data };
                Box::leak(sql.into_boxed_str())
            })
        }

        /// Writes one recorded row: inserts its entry, numbered next by the database, then runs `data_sql`
        /// (its own parameters from `$1`, bound by `bind`; `{seq}` where the row names its entry). On
        /// SQLite both statements go in one call, so the record costs a write no extra round trip. The
        /// transaction holds the ledger's write lock (see `begin_recorded`), so numbers never collide and
        /// the newest entry is this one.
        async fn write_recorded(
            tx: &mut sqlx::Transaction<'static, $db>,
            e: $crate::ledger::NewEntry,
            data_sql: &'static str,
            bind: impl FnOnce(sqlx::query::Query<'static, $db, Arguments>) -> sqlx::query::Query<'static, $db, Arguments>,
        ) -> DbResult<()> {
            let entry = move |q: sqlx::query::Query<'static, $db, Arguments>| bind_entry(q, e);
            let sql = recorded_sql(data_sql);
            let done = if $one_round_trip {
                bind(entry(sqlx::query(sql))).execute(&mut **tx).await.map_err(db_err)?
            } else {
                entry(sqlx::query(ENTRY_INSERT)).execute(&mut **tx).await.map_err(db_err)?;
                bind(sqlx::query(sql)).execute(&mut **tx).await.map_err(db_err)?
            };
            // Both statements count their row; a data statement that matched nothing would leave a lone entry.
            if done.rows_affected() < if $one_round_trip { 2 } else { 1 } {
                return Err(DbError::Conflict("the recorded row was not written".into()));
            }
            Ok(())
        }

        /// Binds an entry's nine fields in the order `ENTRY_INSERT` (and each row of a batch) lists them.
        fn bind_entry(
            q: sqlx::query::Query<'static, $db, Arguments>,
            e: $crate::ledger::NewEntry,
        ) -> sqlx::query::Query<'static, $db, Arguments> {
            q.bind(e.recorded_at)
                .bind(e.actor)
                .bind(e.role)
                .bind(e.action)
                .bind(e.object_type)
                .bind(e.object_id)
                .bind(e.jurisdiction)
                .bind(e.payload)
                .bind(e.payload_digest.to_hex())
        }

        /// Entries integrated into the tree per transaction.
        const INTEGRATION_PAGE: u32 = 4096;
        /// Entries per INSERT statement when many are recorded at once (10 parameters each).
        const ENTRIES_PER_INSERT: usize = 100;
        /// Tree nodes per INSERT statement (3 parameters each, under SQLite's and PostgreSQL's limits).
        const NODES_PER_INSERT: usize = 300;

        /// Writes tree nodes, many per statement.
        async fn insert_nodes(tx: &mut sqlx::Transaction<'static, $db>, nodes: &[(gridward_ledger::NodeId, gridward_ledger::Hash)]) -> DbResult<()> {
            for chunk in nodes.chunks(NODES_PER_INSERT) {
                let mut sql = String::from("INSERT INTO ledger_nodes (level, idx, hash) VALUES ");
                for i in 0..chunk.len() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
                }
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (id, hash) in chunk {
                    query = query.bind(i32::from(id.level)).bind(id.index as i64).bind(hash.to_hex());
                }
                query.execute(&mut **tx).await.map_err(db_err)?;
            }
            Ok(())
        }

        fn to_payload(value: &impl serde::Serialize) -> DbResult<serde_json::Value> {
            serde_json::to_value(value).map_err(|e| DbError::Corrupt(e.to_string()))
        }

        fn evidence_row(r: &$row) -> DbResult<$crate::EvidenceRecord> {
            Ok($crate::EvidenceRecord {
                id: r.try_get("id").map_err(db_err)?,
                object_type: r.try_get("object_type").map_err(db_err)?,
                object_id: r.try_get("object_id").map_err(db_err)?,
                jurisdiction: r.try_get("jurisdiction").map_err(db_err)?,
                digest: r.try_get("digest").map_err(db_err)?,
                media_type: r.try_get("media_type").map_err(db_err)?,
                kind: r.try_get("kind").map_err(db_err)?,
                size: r.try_get("size").map_err(db_err)?,
                original_name: r.try_get("original_name").map_err(db_err)?,
                captured_at: r.try_get("captured_at").map_err(db_err)?,
                latitude: r.try_get("latitude").map_err(db_err)?,
                longitude: r.try_get("longitude").map_err(db_err)?,
                uploaded_by: r.try_get("uploaded_by").map_err(db_err)?,
                uploaded_at: r.try_get("uploaded_at").map_err(db_err)?,
                ledger_seq: r.try_get("ledger_seq").map_err(db_err)?,
            })
        }

        fn entries_page_row(r: &$row) -> DbResult<$crate::ledger::EntriesPage> {
            let count: i64 = r.try_get("n").map_err(db_err)?;
            let last_seq: Option<i64> = r.try_get("last_seq").map_err(db_err)?;
            Ok($crate::ledger::EntriesPage {
                count: usize::try_from(count).map_err(|_| DbError::Corrupt("entry count".into()))?,
                last_seq: last_seq.map(|s| u64::try_from(s).map_err(|_| DbError::Corrupt("entry number".into()))).transpose()?,
                text: r.try_get::<Option<String>, _>("page").map_err(db_err)?.unwrap_or_default(),
            })
        }

        fn checkpoint_row(r: &$row) -> DbResult<$crate::StoredCheckpoint> {
            let size: i64 = r.try_get("size").map_err(db_err)?;
            Ok($crate::StoredCheckpoint {
                origin: r.try_get("origin").map_err(db_err)?,
                checkpoint: gridward_ledger::Checkpoint {
                    head: gridward_ledger::TreeHead {
                        algorithm: $crate::ledger::algorithm(&r.try_get::<String, _>("algorithm").map_err(db_err)?)?,
                        size: u64::try_from(size).map_err(|_| DbError::Corrupt("checkpoint size".into()))?,
                        root: $crate::ledger::hash(&r.try_get::<String, _>("root").map_err(db_err)?)?,
                    },
                    signed_at: r.try_get("signed_at").map_err(db_err)?,
                },
                signature: gridward_ledger::CheckpointSignature {
                    signer: r.try_get("signer").map_err(db_err)?,
                    key_id: r.try_get("key_id").map_err(db_err)?,
                    algorithm: r.try_get("sig_algorithm").map_err(db_err)?,
                    signature: r.try_get("signature").map_err(db_err)?,
                },
            })
        }

        fn power_detail(detail: &str) -> DbResult<gridward_domain::catalog::Power> {
            serde_json::from_str(detail).map_err(|e| DbError::Corrupt(format!("power detail: {e}")))
        }

        fn power_version_row(r: &$row) -> DbResult<$crate::PowerVersion> {
            let version: i32 = r.try_get("version").map_err(db_err)?;
            Ok($crate::PowerVersion {
                power: power_detail(&r.try_get::<String, _>("detail").map_err(db_err)?)?,
                version: u32::try_from(version).map_err(|_| DbError::Corrupt(format!("power version {version}")))?,
                ledger_seq: r.try_get("ledger_seq").map_err(db_err)?,
            })
        }

        fn assignment_row(r: &$row) -> DbResult<gridward_domain::delegation::Assignment> {
            Ok(gridward_domain::delegation::Assignment {
                id: r.try_get("id").map_err(db_err)?,
                power_code: r.try_get("power_code").map_err(db_err)?,
                body_code: r.try_get("body_code").map_err(db_err)?,
                territory: decode::code(&r.try_get::<String, _>("territory").map_err(db_err)?)?,
                valid_from: decode::date(Some(r.try_get("valid_from").map_err(db_err)?))?.ok_or_else(|| DbError::Corrupt("valid_from".into()))?,
                valid_to: decode::date(r.try_get("valid_to").map_err(db_err)?)?,
                instrument: r.try_get("instrument").map_err(db_err)?,
                evaluation_due: decode::date(r.try_get("evaluation_due").map_err(db_err)?)?,
            })
        }

        fn plan_row(r: &$row) -> DbResult<$crate::PlanRecord> {
            let plan: String = r.try_get("plan").map_err(db_err)?;
            Ok($crate::PlanRecord {
                id: r.try_get("id").map_err(db_err)?,
                plan: serde_json::from_str(&plan).map_err(|e| DbError::Corrupt(format!("plan: {e}")))?,
                committed_by: r.try_get("committed_by").map_err(db_err)?,
                committed_at: r.try_get("committed_at").map_err(db_err)?,
                ledger_seq: r.try_get("ledger_seq").map_err(db_err)?,
            })
        }

        /// Ends an assignment on `last_day`, recorded.
        async fn end_assignment(
            tx: &mut sqlx::Transaction<'static, $db>,
            algorithm: gridward_ledger::HashAlgorithm,
            change: &$crate::Change,
            a: &gridward_domain::delegation::Assignment,
            last_day: gridward_domain::Date,
        ) -> DbResult<()> {
            let id = a.id.to_string();
            write_recorded(tx, change.entry(algorithm, &$crate::ledger::Record {
                action: "assignment.end",
                object_type: "assignment",
                object_id: &id,
                jurisdiction: a.territory.as_str(),
                payload: serde_json::json!({ "id": a.id, "valid_to": last_day.to_string() }),
            }), "UPDATE assignments SET valid_to = $1, ledger_seq = {seq} WHERE id = $2", |q| q.bind(last_day.to_string()).bind(a.id))
            .await
        }

        /// Inserts an assignment with the next id after checking, under the ledger's lock, that it
        /// overlaps nothing.
        async fn insert_assignment(
            tx: &mut sqlx::Transaction<'static, $db>,
            algorithm: gridward_ledger::HashAlgorithm,
            change: &$crate::Change,
            a: &gridward_domain::delegation::Assignment,
            plan_id: Option<i64>,
        ) -> DbResult<Result<gridward_domain::delegation::Assignment, $crate::DelegationRefusal>> {
            let clashes = sqlx::query("SELECT * FROM assignments WHERE power_code = $1 AND territory = $2
                 AND (valid_to IS NULL OR valid_to >= $3) AND valid_from <= coalesce(CAST($4 AS TEXT), '9999-12-31') ORDER BY id")
                .bind(a.power_code.clone())
                .bind(a.territory.as_str())
                .bind(a.valid_from.to_string())
                .bind(a.valid_to.map(|d| d.to_string()))
                .fetch_all(&mut **tx)
                .await
                .map_err(db_err)?;
            if !clashes.is_empty() {
                let existing = clashes.iter().map(assignment_row).collect::<DbResult<Vec<_>>>()?;
                return Ok(Err($crate::DelegationRefusal::Overlap { candidate: a.clone(), existing }));
            }
            let id: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM assignments").fetch_one(&mut **tx).await.map_err(db_err)?;
            let stored = gridward_domain::delegation::Assignment { id, ..a.clone() };
            let id_text = id.to_string();
            write_recorded(tx, change.entry(algorithm, &$crate::ledger::Record {
                action: "assignment.add",
                object_type: "assignment",
                object_id: &id_text,
                jurisdiction: stored.territory.as_str(),
                payload: to_payload(&stored)?,
            }), "INSERT INTO assignments (id, power_code, body_code, territory, valid_from, valid_to, instrument, evaluation_due, plan_id, ledger_seq)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {seq})", |q| {
                q.bind(id)
                    .bind(stored.power_code.clone())
                    .bind(stored.body_code.clone())
                    .bind(stored.territory.to_string())
                    .bind(stored.valid_from.to_string())
                    .bind(stored.valid_to.map(|d| d.to_string()))
                    .bind(stored.instrument.clone())
                    .bind(stored.evaluation_due.map(|d| d.to_string()))
                    .bind(plan_id)
            })
            .await?;
            Ok(Ok(stored))
        }

        /// Sets one body's posts of one kind, recorded.
        async fn write_quota(
            tx: &mut sqlx::Transaction<'static, $db>,
            algorithm: gridward_ledger::HashAlgorithm,
            change: &$crate::Change,
            q: &gridward_domain::staffing::Quota,
        ) -> DbResult<()> {
            write_recorded(tx, change.entry(algorithm, &$crate::ledger::Record {
                action: "quota.set",
                object_type: "quota",
                object_id: &q.body_code,
                jurisdiction: "",
                payload: to_payload(q)?,
            }), "INSERT INTO staffing_quotas (body_code, kind, posts, ledger_seq) VALUES ($1, $2, $3, {seq})
                 ON CONFLICT (body_code, kind) DO UPDATE SET posts = excluded.posts, ledger_seq = excluded.ledger_seq", |b| {
                b.bind(q.body_code.clone()).bind(q.kind.as_str()).bind(i32::try_from(q.posts).unwrap_or(i32::MAX))
            })
            .await
        }

        /// Inserts many entries, `ENTRIES_PER_INSERT` per statement, numbered on from the newest, and
        /// returns the first one's number. The caller holds the ledger's lock (`begin_recorded`).
        async fn insert_entries(
            tx: &mut sqlx::Transaction<'static, $db>,
            algorithm: gridward_ledger::HashAlgorithm,
            records: &[$crate::ledger::Record<'_>],
            change: &$crate::Change,
        ) -> DbResult<i64> {
            let first: i64 =
                sqlx::query_scalar("SELECT coalesce(max(seq) + 1, 0) FROM ledger_entries").fetch_one(&mut **tx).await.map_err(db_err)?;
            let mut next = first;
            for chunk in records.chunks(ENTRIES_PER_INSERT) {
                let mut sql = String::from(
                    "INSERT INTO ledger_entries (seq, recorded_at, actor, role, action, object_type, object_id, jurisdiction, payload,
                     payload_digest) VALUES ",
                );
                sql.push_str(&$crate::sql::value_rows(<$db as sqlx::Database>::NAME, chunk.len(), 10));
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for record in chunk {
                    query = bind_entry(query.bind(next), change.entry(algorithm, record));
                    next += 1;
                }
                query.execute(&mut **tx).await.map_err(db_err)?;
            }
            Ok(first)
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
                datum: r.try_get("datum").map_err(db_err)?,
            })
        }

        fn grid_row(r: &$row) -> DbResult<$crate::GridRecord> {
            Ok($crate::GridRecord {
                code: r.try_get("code").map_err(db_err)?,
                community: decode::code(&r.try_get::<String, _>("community").map_err(db_err)?)?,
                name: r.try_get("name").map_err(db_err)?,
                datum: r.try_get("datum").map_err(db_err)?,
                geometry: r.try_get("geometry").map_err(db_err)?,
                area_m2: r.try_get("area_m2").map_err(db_err)?,
                synthetic: r.try_get("synthetic").map_err(db_err)?,
                source: r.try_get("source").map_err(db_err)?,
            })
        }

        fn grid_owner_row(r: &$row) -> DbResult<$crate::GridOwner> {
            let backups: String = r.try_get("backups").map_err(db_err)?;
            Ok($crate::GridOwner {
                grid: r.try_get("grid_code").map_err(db_err)?,
                squad: r.try_get("squad").map_err(db_err)?,
                primary_officer: r.try_get("primary_officer").map_err(db_err)?,
                backups: backups.split(';').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
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

            async fn upsert_divisions(&self, divisions: &[Division], boundaries: &[BoundaryRecord], change: &$crate::Change) -> DbResult<()> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                for d in divisions {
                    write_recorded(&mut tx, change.entry(algorithm, &$crate::ledger::Record {
                        action: "division.upsert",
                        object_type: "division",
                        object_id: d.code.as_str(),
                        jurisdiction: d.code.as_str(),
                        payload: to_payload(d)?,
                    }), "INSERT INTO divisions (code, name, level, parent_code, valid_from, valid_to, ledger_seq) VALUES ($1, $2, $3, $4, $5, $6, {seq})
                         ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
                         parent_code = excluded.parent_code, valid_from = excluded.valid_from, valid_to = excluded.valid_to,
                         ledger_seq = excluded.ledger_seq", |q| {
                        q
                            .bind(d.code.as_str())
                            .bind(&d.name)
                            .bind(d.level.as_str())
                            .bind(d.parent_code.as_ref().map(|c| c.as_str()))
                            .bind(date_text(d.valid_from))
                            .bind(date_text(d.valid_to))
                    })
                    .await?;
                }
                for b in boundaries {
                    let geometry = b.geometry.to_string();
                    // The outline itself stays in its table; the record binds it by digest.
                    let payload = serde_json::json!({
                        "code": b.code.as_str(),
                        "synthetic": b.synthetic,
                        "source": b.source,
                        "geometry_digest": algorithm.digest(geometry.as_bytes()).to_hex(),
                        "datum": b.datum,
                    });
                    write_recorded(&mut tx, change.entry(algorithm, &$crate::ledger::Record {
                        action: "boundary.upsert",
                        object_type: "boundary",
                        object_id: b.code.as_str(),
                        jurisdiction: b.code.as_str(),
                        payload,
                    }), "INSERT INTO division_boundaries (code, geometry, synthetic, source, datum, ledger_seq) VALUES ($1, $2, $3, $4, $5, {seq})
                         ON CONFLICT (code) DO UPDATE SET geometry = excluded.geometry, synthetic = excluded.synthetic, source = excluded.source,
                         datum = excluded.datum, ledger_seq = excluded.ledger_seq", |q| {
                        q
                            .bind(b.code.as_str())
                            .bind(geometry)
                            .bind(b.synthetic)
                            .bind(&b.source)
                            .bind(&b.datum)
                    })
                    .await?;
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

            async fn upsert_bodies(&self, bodies: &[Body], change: &$crate::Change) -> DbResult<()> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                for b in bodies {
                    write_recorded(&mut tx, change.entry(algorithm, &$crate::ledger::Record {
                        action: "body.upsert",
                        object_type: "body",
                        object_id: &b.code,
                        jurisdiction: b.division_code.as_str(),
                        payload: to_payload(b)?,
                    }), "INSERT INTO bodies (code, name, kind, division_code, parent_code, domains, ledger_seq) VALUES ($1, $2, $3, $4, $5, $6, {seq})
                         ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, division_code = excluded.division_code,
                         parent_code = excluded.parent_code, domains = excluded.domains, ledger_seq = excluded.ledger_seq", |q| {
                        q
                            .bind(&b.code)
                            .bind(&b.name)
                            .bind(b.kind.as_str())
                            .bind(b.division_code.as_str())
                            .bind(b.parent_code.as_deref())
                            .bind(format_domains(&b.domains))
                    })
                    .await?;
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

            async fn all_bodies(&self) -> DbResult<Vec<Body>> {
                let rows = sqlx::query("SELECT * FROM bodies ORDER BY code").fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(body_row).collect()
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

            async fn upsert_staff(&self, staff: &[Staff], change: &$crate::Change) -> DbResult<()> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                for s in staff {
                    // Staff belong to the territory of their body.
                    let jurisdiction: String = sqlx::query_scalar("SELECT division_code FROM bodies WHERE code = $1")
                        .bind(&s.body_code)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?
                        .ok_or_else(|| DbError::Conflict(format!("body {} is not stored", s.body_code)))?;
                    let c = s.credential.as_ref();
                    write_recorded(&mut tx, change.entry(algorithm, &$crate::ledger::Record {
                        action: "staff.upsert",
                        object_type: "staff",
                        object_id: &s.staff_no,
                        jurisdiction: &jurisdiction,
                        payload: to_payload(s)?,
                    }), "INSERT INTO staff (staff_no, name, body_code, roles, credential_no, credential_valid_from, credential_valid_to,
                         qualification_domains, auxiliary, active, ledger_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, {seq})
                         ON CONFLICT (staff_no) DO UPDATE SET name = excluded.name, body_code = excluded.body_code, roles = excluded.roles,
                         credential_no = excluded.credential_no, credential_valid_from = excluded.credential_valid_from,
                         credential_valid_to = excluded.credential_valid_to, qualification_domains = excluded.qualification_domains,
                         auxiliary = excluded.auxiliary, active = excluded.active, ledger_seq = excluded.ledger_seq", |q| {
                        q.bind(&s.staff_no)
                            .bind(&s.name)
                            .bind(&s.body_code)
                            .bind(format_roles(&s.roles))
                            .bind(c.map(|c| c.number.as_str()))
                            .bind(c.map(|c| c.valid_from.to_string()))
                            .bind(c.map(|c| c.valid_to.to_string()))
                            .bind(c.map(|c| format_domains(&c.domains)))
                            .bind(s.auxiliary)
                            .bind(s.active)
                    })
                    .await?;
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

            async fn create_user(&self, u: &UserRecord, change: &$crate::Change) -> DbResult<()> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                // The password hash is a secret, not part of the record.
                let payload = serde_json::json!({
                    "username": u.username,
                    "display_name": u.display_name,
                    "roles": format_roles(&u.roles),
                    "scope": u.scope.as_str(),
                    "staff_no": u.staff_no,
                    "active": u.active,
                });
                write_recorded(&mut tx, change.entry(algorithm, &$crate::ledger::Record {
                    action: "account.create",
                    object_type: "account",
                    object_id: &u.username,
                    jurisdiction: u.scope.as_str(),
                    payload,
                }), "INSERT INTO users (username, display_name, password_hash, roles, scope_code, staff_no, active, created_at, ledger_seq)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, {seq})", |q| {
                    q
                        .bind(&u.username)
                        .bind(&u.display_name)
                        .bind(&u.password_hash)
                        .bind(format_roles(&u.roles))
                        .bind(u.scope.as_str())
                        .bind(u.staff_no.as_deref())
                        .bind(u.active)
                        .bind(u.created_at)
                })
                .await?;
                tx.commit().await.map_err(db_err)
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

            async fn set_password(&self, username: &str, password_hash: &str, change: &$crate::Change) -> DbResult<bool> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let scope: Option<String> =
                    sqlx::query_scalar("SELECT scope_code FROM users WHERE username = $1").bind(username).fetch_optional(&mut *tx).await.map_err(db_err)?;
                let Some(scope) = scope else { return Ok(false) };
                write_recorded(&mut tx, change.entry(algorithm, &$crate::ledger::Record {
                    action: "account.password_set",
                    object_type: "account",
                    object_id: username,
                    jurisdiction: &scope,
                    payload: serde_json::json!({ "username": username }),
                }), "UPDATE users SET password_hash = $2, ledger_seq = {seq} WHERE username = $1", |q| {
                    q
                        .bind(username)
                        .bind(password_hash)
                })
                .await?;
                sqlx::query("DELETE FROM sessions WHERE username = $1").bind(username).execute(&mut *tx).await.map_err(db_err)?;
                sqlx::query("DELETE FROM login_attempts WHERE username = $1").bind(username).execute(&mut *tx).await.map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }

            async fn init_ledger(&self, algorithm: gridward_ledger::HashAlgorithm, at: i64) -> DbResult<gridward_ledger::HashAlgorithm> {
                sqlx::query("INSERT INTO ledger_state (id, algorithm, size, created_at) VALUES (1, $1, 0, $2) ON CONFLICT (id) DO NOTHING")
                    .bind(algorithm.as_str())
                    .bind(at)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                let recorded: String =
                    sqlx::query_scalar("SELECT algorithm FROM ledger_state WHERE id = 1").fetch_one(&self.pool).await.map_err(db_err)?;
                $crate::ledger::algorithm(&recorded)
            }

            async fn record_actions(&self, records: &[$crate::ledger::Record<'_>], change: &$crate::Change) -> DbResult<u64> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                insert_entries(&mut tx, algorithm, records, change).await?;
                tx.commit().await.map_err(db_err)?;
                Ok(records.len() as u64)
            }

            async fn integrate_ledger(&self) -> DbResult<gridward_ledger::TreeHead> {
                loop {
                    let (head, more) = self.integrate_page().await?;
                    if !more {
                        return Ok(head);
                    }
                }
            }

            async fn ledger_head(&self) -> DbResult<Option<gridward_ledger::TreeHead>> {
                // One cheap read first: when every entry is in the tree already, nothing takes the write lock.
                let state = sqlx::query(
                    "SELECT size, frontier, (SELECT coalesce(max(seq) + 1, 0) FROM ledger_entries) AS entries FROM ledger_state WHERE id = 1",
                )
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                let Some(state) = state else { return Ok(None) };
                let (size, entries): (i64, i64) = (state.try_get("size").map_err(db_err)?, state.try_get("entries").map_err(db_err)?);
                if size != entries {
                    return self.integrate_ledger().await.map(Some);
                }
                let size = u64::try_from(size).map_err(|_| DbError::Corrupt("ledger size".into()))?;
                let frontier = $crate::ledger::decode_frontier(size, &state.try_get::<String, _>("frontier").map_err(db_err)?)?;
                $crate::ledger::head(self.ledger_algorithm().await?, size, frontier).map(Some)
            }

            async fn ledger_entries_page(&self, from_seq: u64, limit: u32) -> DbResult<$crate::ledger::EntriesPage> {
                let page = sqlx::query($entries_page)
                    .bind(from_seq as i64)
                    .bind(i64::from(limit))
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_err)?;
                entries_page_row(&page)
            }

            async fn add_checkpoint(&self, c: &$crate::StoredCheckpoint) -> DbResult<()> {
                sqlx::query(
                    "INSERT INTO ledger_checkpoints (origin, algorithm, size, root, signed_at, signer, key_id, sig_algorithm, signature)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&c.origin)
                .bind(c.checkpoint.head.algorithm.as_str())
                .bind(c.checkpoint.head.size as i64)
                .bind(c.checkpoint.head.root.to_hex())
                .bind(c.checkpoint.signed_at)
                .bind(&c.signature.signer)
                .bind(&c.signature.key_id)
                .bind(&c.signature.algorithm)
                .bind(&c.signature.signature)
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err(db_err)
            }

            async fn checkpoints_by(&self, signer: &str, limit: u32) -> DbResult<Vec<$crate::StoredCheckpoint>> {
                let rows = sqlx::query("SELECT * FROM ledger_checkpoints WHERE signer = $1 ORDER BY id DESC LIMIT $2")
                    .bind(signer)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(checkpoint_row).collect()
            }

            async fn all_checkpoints(&self) -> DbResult<Vec<$crate::StoredCheckpoint>> {
                let rows = sqlx::query("SELECT * FROM ledger_checkpoints ORDER BY id").fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(checkpoint_row).collect()
            }

            async fn add_evidence(&self, ev: &$crate::EvidenceRecord, change: &$crate::Change) -> DbResult<$crate::EvidenceRecord> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let mut payload = to_payload(ev)?;
                if let Some(map) = payload.as_object_mut() {
                    // The entry number is the entry's own; it is not part of what it records.
                    map.remove("ledger_seq");
                }
                write_recorded(&mut tx, change.entry(algorithm, &$crate::ledger::Record {
                    action: "evidence.add",
                    object_type: "evidence",
                    object_id: &ev.id,
                    jurisdiction: &ev.jurisdiction,
                    payload,
                }), "INSERT INTO evidence (id, object_type, object_id, jurisdiction, digest, media_type, kind, size, original_name,
                     captured_at, latitude, longitude, uploaded_by, uploaded_at, ledger_seq)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, {seq})", |q| {
                    q
                        .bind(&ev.id)
                        .bind(&ev.object_type)
                        .bind(&ev.object_id)
                        .bind(&ev.jurisdiction)
                        .bind(&ev.digest)
                        .bind(&ev.media_type)
                        .bind(&ev.kind)
                        .bind(ev.size)
                        .bind(ev.original_name.as_deref())
                        .bind(ev.captured_at.as_deref())
                        .bind(ev.latitude)
                        .bind(ev.longitude)
                        .bind(&ev.uploaded_by)
                        .bind(ev.uploaded_at)
                })
                .await?;
                let seq: i64 = sqlx::query_scalar("SELECT max(seq) FROM ledger_entries").fetch_one(&mut *tx).await.map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok($crate::EvidenceRecord { ledger_seq: seq, ..ev.clone() })
            }

            async fn evidence(&self, id: &str) -> DbResult<Option<$crate::EvidenceRecord>> {
                let row = sqlx::query("SELECT * FROM evidence WHERE id = $1").bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(evidence_row).transpose()
            }

            async fn evidence_of(&self, object_type: &str, object_id: &str) -> DbResult<Vec<$crate::EvidenceRecord>> {
                let rows = sqlx::query("SELECT * FROM evidence WHERE object_type = $1 AND object_id = $2 ORDER BY uploaded_at, id")
                    .bind(object_type)
                    .bind(object_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(evidence_row).collect()
            }

            async fn all_evidence(&self) -> DbResult<Vec<$crate::EvidenceRecord>> {
                let rows = sqlx::query("SELECT * FROM evidence ORDER BY ledger_seq").fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(evidence_row).collect()
            }

            async fn ledger_node_range(&self, level: u8, from_index: u64, to_index: u64) -> DbResult<Vec<(u64, gridward_ledger::Hash)>> {
                // The range comes back as one text: reading row by row costs several times more than
                // hashing, and verification reads every node. Each node carries its index, so the aggregate
                // needs no ORDER BY of its own (on SQLite that sorts the range again).
                let joined: Option<String> = sqlx::query_scalar(
                    "SELECT string_agg(concat(idx, ':', hash), ',') FROM ledger_nodes WHERE level = $1 AND idx >= $2 AND idx <= $3",
                )
                .bind(i32::from(level))
                .bind(from_index as i64)
                .bind(to_index as i64)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
                $crate::ledger::decode_node_range(joined.as_deref())
            }

            async fn ledger_nodes(&self, ids: &[gridward_ledger::NodeId]) -> DbResult<HashMap<gridward_ledger::NodeId, gridward_ledger::Hash>> {
                // One statement for all of them: a proof needs about 2·log2(size) nodes.
                let mut nodes = HashMap::new();
                for chunk in ids.chunks(NODES_PER_INSERT) {
                    let mut sql = String::from("SELECT level, idx, hash FROM ledger_nodes WHERE ");
                    for i in 0..chunk.len() {
                        if i > 0 {
                            sql.push_str(" OR ");
                        }
                        sql.push_str(&format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2));
                    }
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        query = query.bind(i32::from(id.level)).bind(id.index as i64);
                    }
                    for r in query.fetch_all(&self.pool).await.map_err(db_err)? {
                        let level: i32 = r.try_get("level").map_err(db_err)?;
                        let idx: i64 = r.try_get("idx").map_err(db_err)?;
                        let hash: String = r.try_get("hash").map_err(db_err)?;
                        let level = u8::try_from(level).map_err(|_| DbError::Corrupt("ledger node level".into()))?;
                        nodes.insert(gridward_ledger::NodeId::new(level, idx as u64), $crate::ledger::hash(&hash)?);
                    }
                }
                Ok(nodes)
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


            async fn import_grids(&self, grids: &[$crate::GridRecord], retire: &[String], change: &$crate::Change) -> DbResult<$crate::GridImport> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let rows = sqlx::query("SELECT code, geometry, name, datum, retired FROM grids").fetch_all(&mut *tx).await.map_err(db_err)?;
                let mut stored: HashMap<String, (String, String, String, bool)> = HashMap::with_capacity(rows.len());
                for r in &rows {
                    stored.insert(
                        r.try_get("code").map_err(db_err)?,
                        (r.try_get("geometry").map_err(db_err)?, r.try_get("name").map_err(db_err)?, r.try_get("datum").map_err(db_err)?, r.try_get("retired").map_err(db_err)?),
                    );
                }
                let mut outcome = $crate::GridImport::default();
                let mut written: Vec<(&$crate::GridRecord, serde_json::Value, &'static str)> = Vec::new();
                for g in grids {
                    let action = match stored.get(&g.code) {
                        Some((geometry, name, datum, false)) if *geometry == g.geometry && *name == g.name && *datum == g.datum => {
                            outcome.unchanged += 1;
                            continue;
                        }
                        Some(_) => {
                            outcome.revised += 1;
                            "grid.revise"
                        }
                        None => {
                            outcome.added += 1;
                            "grid.add"
                        }
                    };
                    // The outline stays in its table; the record binds it by digest.
                    let payload = serde_json::json!({
                        "code": g.code,
                        "community": g.community.as_str(),
                        "name": g.name,
                        "datum": g.datum,
                        "area_m2": g.area_m2,
                        "synthetic": g.synthetic,
                        "source": g.source,
                        "geometry_digest": algorithm.digest(g.geometry.as_bytes()).to_hex(),
                    });
                    written.push((g, payload, action));
                }
                let retiring: Vec<&String> = retire.iter().filter(|code| matches!(stored.get(*code), Some((_, _, _, false)))).collect();
                outcome.retired = retiring.len();
                let mut records: Vec<$crate::ledger::Record<'_>> = written
                    .iter()
                    .map(|(g, payload, action)| $crate::ledger::Record {
                        action,
                        object_type: "grid",
                        object_id: &g.code,
                        jurisdiction: g.community.as_str(),
                        payload: payload.clone(),
                    })
                    .collect();
                records.extend(retiring.iter().map(|code| $crate::ledger::Record {
                    action: "grid.retire",
                    object_type: "grid",
                    object_id: code.as_str(),
                    jurisdiction: &code[..12.min(code.len())],
                    payload: serde_json::json!({ "code": code, "retired": true }),
                }));
                let first = insert_entries(&mut tx, algorithm, &records, change).await?;
                for (n, chunk) in written.chunks(ENTRIES_PER_INSERT).enumerate() {
                    let mut sql = String::from(
                        "INSERT INTO grids (code, community, name, datum, geometry, area_m2, synthetic, source, retired, ledger_seq) VALUES ",
                    );
                    sql.push_str(&$crate::sql::value_rows(<$db as sqlx::Database>::NAME, chunk.len(), 10));
                    sql.push_str(
                        " ON CONFLICT (code) DO UPDATE SET community = excluded.community, name = excluded.name, datum = excluded.datum,
                         geometry = excluded.geometry, area_m2 = excluded.area_m2, synthetic = excluded.synthetic, source = excluded.source,
                         retired = excluded.retired, ledger_seq = excluded.ledger_seq",
                    );
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for (i, (g, _, _)) in chunk.iter().enumerate() {
                        query = query
                            .bind(g.code.clone())
                            .bind(g.community.as_str().to_owned())
                            .bind(g.name.clone())
                            .bind(g.datum.clone())
                            .bind(g.geometry.clone())
                            .bind(g.area_m2)
                            .bind(g.synthetic)
                            .bind(g.source.clone())
                            .bind(false)
                            .bind(first + (n * ENTRIES_PER_INSERT + i) as i64);
                    }
                    query.execute(&mut *tx).await.map_err(db_err)?;
                }
                let retire_first = first + written.len() as i64;
                for (i, code) in retiring.iter().enumerate() {
                    sqlx::query("UPDATE grids SET retired = $1, ledger_seq = $2 WHERE code = $3")
                        .bind(true)
                        .bind(retire_first + i as i64)
                        .bind(code.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(outcome)
            }

            async fn grids(&self) -> DbResult<Vec<$crate::GridRecord>> {
                let rows = sqlx::query("SELECT * FROM grids WHERE retired = $1 ORDER BY code")
                    .bind(false)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(grid_row).collect()
            }

            async fn grids_within(&self, prefix: &str) -> DbResult<Vec<$crate::GridRecord>> {
                let rows = sqlx::query("SELECT * FROM grids WHERE retired = $1 AND code LIKE $2 ORDER BY code")
                    .bind(false)
                    .bind(format!("{}%", prefix.replace(['%', '_'], "")))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(grid_row).collect()
            }

            async fn grid(&self, code: &str) -> DbResult<Option<$crate::GridRecord>> {
                let row = sqlx::query("SELECT * FROM grids WHERE code = $1 AND retired = $2")
                    .bind(code)
                    .bind(false)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(grid_row).transpose()
            }

            async fn set_grid_owners(&self, owners: &[$crate::GridOwner], change: &$crate::Change) -> DbResult<usize> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let rows = sqlx::query("SELECT * FROM grid_owners").fetch_all(&mut *tx).await.map_err(db_err)?;
                let current: HashMap<String, $crate::GridOwner> =
                    rows.iter().map(grid_owner_row).map(|o| o.map(|o| (o.grid.clone(), o))).collect::<DbResult<_>>()?;
                let changed: Vec<&$crate::GridOwner> = owners.iter().filter(|o| current.get(&o.grid) != Some(*o)).collect();
                let records: Vec<$crate::ledger::Record<'_>> = changed
                    .iter()
                    .map(|o| {
                        Ok($crate::ledger::Record {
                            action: if current.contains_key(&o.grid) { "grid.reassign" } else { "grid.assign" },
                            object_type: "grid_owner",
                            object_id: &o.grid,
                            jurisdiction: &o.grid[..12.min(o.grid.len())],
                            payload: to_payload(o)?,
                        })
                    })
                    .collect::<DbResult<_>>()?;
                let first = insert_entries(&mut tx, algorithm, &records, change).await?;
                for (n, chunk) in changed.chunks(ENTRIES_PER_INSERT).enumerate() {
                    let mut sql = String::from("INSERT INTO grid_owners (grid_code, squad, primary_officer, backups, ledger_seq) VALUES ");
                    sql.push_str(&$crate::sql::value_rows(<$db as sqlx::Database>::NAME, chunk.len(), 5));
                    sql.push_str(
                        " ON CONFLICT (grid_code) DO UPDATE SET squad = excluded.squad, primary_officer = excluded.primary_officer,
                         backups = excluded.backups, ledger_seq = excluded.ledger_seq",
                    );
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for (i, o) in chunk.iter().enumerate() {
                        query = query
                            .bind(o.grid.clone())
                            .bind(o.squad.clone())
                            .bind(o.primary_officer.clone())
                            .bind(o.backups.join(";"))
                            .bind(first + (n * ENTRIES_PER_INSERT + i) as i64);
                    }
                    query.execute(&mut *tx).await.map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(changed.len())
            }

            async fn grid_owners(&self) -> DbResult<Vec<$crate::GridOwner>> {
                self.grid_owners_within("").await
            }

            async fn grid_owners_within(&self, prefix: &str) -> DbResult<Vec<$crate::GridOwner>> {
                let rows = sqlx::query(
                    "SELECT o.* FROM grid_owners o JOIN grids g ON g.code = o.grid_code
                     WHERE g.retired = $1 AND o.grid_code LIKE $2 ORDER BY o.grid_code",
                )
                .bind(false)
                .bind(format!("{}%", prefix.replace(['%', '_'], "")))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.iter().map(grid_owner_row).collect()
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

            async fn import_powers(&self, powers: &[gridward_domain::catalog::Power], change: &$crate::Change) -> DbResult<$crate::CatalogImport> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let rows = sqlx::query("SELECT p.code, p.version, p.valid_from, p.detail FROM powers p
                     WHERE p.version = (SELECT max(q.version) FROM powers q WHERE q.code = p.code)")
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let mut latest = HashMap::new();
                for r in &rows {
                    let code: String = r.try_get("code").map_err(db_err)?;
                    let version: i32 = r.try_get("version").map_err(db_err)?;
                    let detail: String = r.try_get("detail").map_err(db_err)?;
                    latest.insert(code, (version, power_detail(&detail)?));
                }
                let mut outcome = $crate::CatalogImport::default();
                let mut written: Vec<(&gridward_domain::catalog::Power, i32, String, serde_json::Value)> = Vec::new();
                for p in powers {
                    let version = match latest.get(&p.code) {
                        Some((_, stored)) if stored == p => {
                            outcome.unchanged += 1;
                            continue;
                        }
                        Some((version, stored)) => {
                            if p.valid_from < stored.valid_from {
                                return Err(DbError::Conflict(format!(
                                    "power {}: a new version cannot take effect on {}, before version {version} ({})",
                                    p.code, p.valid_from, stored.valid_from
                                )));
                            }
                            outcome.revised += 1;
                            version + 1
                        }
                        None => {
                            outcome.added += 1;
                            1
                        }
                    };
                    let detail = serde_json::to_string(p).map_err(|e| DbError::Corrupt(e.to_string()))?;
                    let mut payload = to_payload(p)?;
                    if let Some(map) = payload.as_object_mut() {
                        map.insert("version".into(), version.into());
                    }
                    written.push((p, version, detail, payload));
                }
                // Entries first, then the rows naming them, many per statement: a catalog is thousands of rows.
                let records: Vec<$crate::ledger::Record<'_>> = written
                    .iter()
                    .map(|(p, version, _, payload)| $crate::ledger::Record {
                        action: if *version == 1 { "power.add" } else { "power.revise" },
                        object_type: "power",
                        object_id: &p.code,
                        jurisdiction: "",
                        payload: payload.clone(),
                    })
                    .collect();
                let first = insert_entries(&mut tx, algorithm, &records, change).await?;
                for (n, chunk) in written.chunks(ENTRIES_PER_INSERT).enumerate() {
                    let mut sql = String::from(
                        "INSERT INTO powers (code, version, valid_from, name, kind, domain, category, default_level, detail, ledger_seq) VALUES ",
                    );
                    sql.push_str(&$crate::sql::value_rows(<$db as sqlx::Database>::NAME, chunk.len(), 10));
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for (i, (p, version, detail, _)) in chunk.iter().enumerate() {
                        query = query
                            .bind(p.code.clone())
                            .bind(*version)
                            .bind(p.valid_from.to_string())
                            .bind(p.name.clone())
                            .bind(p.kind.as_str())
                            .bind(p.domain.as_str())
                            .bind(p.category.clone())
                            .bind(p.default_level.as_str())
                            .bind(detail.clone())
                            .bind(first + (n * ENTRIES_PER_INSERT + i) as i64);
                    }
                    query.execute(&mut *tx).await.map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(outcome)
            }

            async fn powers_in_force(&self, day: gridward_domain::Date) -> DbResult<Vec<$crate::PowerVersion>> {
                let rows = sqlx::query("SELECT p.version, p.detail, p.ledger_seq FROM powers p
                     WHERE p.version = (SELECT max(q.version) FROM powers q WHERE q.code = p.code AND q.valid_from <= $1)
                     ORDER BY p.code")
                    .bind(day.to_string())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(power_version_row).collect()
            }

            async fn power_history(&self, code: &str) -> DbResult<Vec<$crate::PowerVersion>> {
                let rows = sqlx::query("SELECT version, detail, ledger_seq FROM powers WHERE code = $1 ORDER BY version")
                    .bind(code)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(power_version_row).collect()
            }

            async fn assignments(&self) -> DbResult<Vec<gridward_domain::delegation::Assignment>> {
                let rows = sqlx::query("SELECT * FROM assignments ORDER BY id").fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(assignment_row).collect()
            }

            async fn add_assignment(
                &self,
                assignment: &gridward_domain::delegation::Assignment,
                supersedes: Option<i64>,
                change: &$crate::Change,
            ) -> DbResult<Result<gridward_domain::delegation::Assignment, $crate::DelegationRefusal>> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                if let Some(old) = supersedes {
                    let row = sqlx::query("SELECT * FROM assignments WHERE id = $1").bind(old).fetch_optional(&mut *tx).await.map_err(db_err)?;
                    let Some(row) = row else { return Ok(Err($crate::DelegationRefusal::Stale { assignment_id: old })) };
                    let old = assignment_row(&row)?;
                    let last_day = assignment.valid_from.yesterday().map_err(|e| DbError::Conflict(e.to_string()))?;
                    if old.valid_to.is_some_and(|to| to < last_day) || old.valid_from > last_day {
                        return Ok(Err($crate::DelegationRefusal::Stale { assignment_id: old.id }));
                    }
                    end_assignment(&mut tx, algorithm, change, &old, last_day).await?;
                }
                let stored = match insert_assignment(&mut tx, algorithm, change, assignment, None).await? {
                    Ok(a) => a,
                    Err(refusal) => return Ok(Err(refusal)),
                };
                tx.commit().await.map_err(db_err)?;
                Ok(Ok(stored))
            }

            async fn commit_plan(
                &self,
                plan: &gridward_domain::delegation::Plan,
                effect: &gridward_domain::delegation::PlanEffect,
                change: &$crate::Change,
            ) -> DbResult<Result<$crate::PlanRecord, $crate::DelegationRefusal>> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let id: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM delegation_plans").fetch_one(&mut *tx).await.map_err(db_err)?;
                let plan_json = serde_json::to_string(plan).map_err(|e| DbError::Corrupt(e.to_string()))?;
                let id_text = id.to_string();
                write_recorded(&mut tx, change.entry(algorithm, &$crate::ledger::Record {
                    action: "plan.commit",
                    object_type: "plan",
                    object_id: &id_text,
                    jurisdiction: "",
                    payload: to_payload(plan)?,
                }), "INSERT INTO delegation_plans (id, title, instrument, effective_from, plan, committed_by, committed_at, ledger_seq)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, {seq})", |q| {
                    q.bind(id)
                        .bind(plan.title.clone())
                        .bind(plan.instrument.clone())
                        .bind(plan.effective_from.to_string())
                        .bind(plan_json)
                        .bind(change.actor.name.clone())
                        .bind(change.at)
                })
                .await?;
                let seq: i64 = sqlx::query_scalar("SELECT max(seq) FROM ledger_entries").fetch_one(&mut *tx).await.map_err(db_err)?;
                for (old, last_day) in &effect.ended {
                    // The assignment must still be as the preview read it.
                    let row = sqlx::query("SELECT * FROM assignments WHERE id = $1").bind(old.id).fetch_optional(&mut *tx).await.map_err(db_err)?;
                    match row.as_ref().map(assignment_row).transpose()? {
                        Some(now) if now == *old => {}
                        _ => return Ok(Err($crate::DelegationRefusal::Stale { assignment_id: old.id })),
                    }
                    end_assignment(&mut tx, algorithm, change, old, *last_day).await?;
                }
                for a in &effect.created {
                    if let Err(refusal) = insert_assignment(&mut tx, algorithm, change, a, Some(id)).await? {
                        return Ok(Err(refusal));
                    }
                }
                let mut posts: HashMap<(String, gridward_domain::staffing::QuotaKind), i64> = HashMap::new();
                for c in &plan.quota_changes {
                    *posts.entry((c.body_code.clone(), c.kind)).or_default() += c.delta;
                }
                let mut posts: Vec<_> = posts.into_iter().filter(|(_, delta)| *delta != 0).collect();
                posts.sort();
                for ((body, kind), delta) in posts {
                    let current: Option<i32> = sqlx::query_scalar("SELECT posts FROM staffing_quotas WHERE body_code = $1 AND kind = $2")
                        .bind(body.clone())
                        .bind(kind.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    let new_posts = i64::from(current.unwrap_or(0)) + delta;
                    let posts = u32::try_from(new_posts).map_err(|_| DbError::Conflict(format!("{body} would hold {new_posts} {} posts", kind.zh())))?;
                    let quota = gridward_domain::staffing::Quota { body_code: body, kind, posts };
                    write_quota(&mut tx, algorithm, change, &quota).await?;
                }
                let committed = sqlx::query("SELECT * FROM delegation_plans WHERE id = $1").bind(id).fetch_one(&mut *tx).await.map_err(db_err)?;
                let record = plan_row(&committed)?;
                debug_assert_eq!(record.ledger_seq, seq);
                tx.commit().await.map_err(db_err)?;
                Ok(Ok(record))
            }

            async fn plans(&self) -> DbResult<Vec<$crate::PlanRecord>> {
                let rows = sqlx::query("SELECT * FROM delegation_plans ORDER BY id DESC").fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(plan_row).collect()
            }

            async fn quotas(&self) -> DbResult<Vec<gridward_domain::staffing::Quota>> {
                let rows = sqlx::query("SELECT body_code, kind, posts FROM staffing_quotas ORDER BY body_code, kind")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        let kind: String = r.try_get("kind").map_err(db_err)?;
                        let posts: i32 = r.try_get("posts").map_err(db_err)?;
                        Ok(gridward_domain::staffing::Quota {
                            body_code: r.try_get("body_code").map_err(db_err)?,
                            kind: gridward_domain::staffing::QuotaKind::parse(&kind).ok_or_else(|| DbError::Corrupt(format!("quota kind {kind:?}")))?,
                            posts: u32::try_from(posts).map_err(|_| DbError::Corrupt(format!("posts {posts}")))?,
                        })
                    })
                    .collect()
            }

            async fn set_quotas(&self, quotas: &[gridward_domain::staffing::Quota], change: &$crate::Change) -> DbResult<()> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                for q in quotas {
                    write_quota(&mut tx, algorithm, change, q).await?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn headcounts(&self) -> DbResult<HashMap<String, $crate::Headcount>> {
                let rows = sqlx::query("SELECT body_code, auxiliary, count(*) AS n FROM staff WHERE active GROUP BY body_code, auxiliary")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                let mut out: HashMap<String, $crate::Headcount> = HashMap::new();
                for r in &rows {
                    let body: String = r.try_get("body_code").map_err(db_err)?;
                    let auxiliary: bool = r.try_get("auxiliary").map_err(db_err)?;
                    let n: i64 = r.try_get("n").map_err(db_err)?;
                    let entry = out.entry(body).or_default();
                    let n = u32::try_from(n).unwrap_or(u32::MAX);
                    if auxiliary { entry.auxiliaries = n } else { entry.established = n }
                }
                Ok(out)
            }
        }
    };
}

/// `($1, …, $k), ($k+1, …)`: the VALUES of a multi-row INSERT of `rows` rows with `columns` parameters each,
/// the statement's only parameters, for the database named `database` (sqlx's `Database::NAME`). SQLite
/// gets bare `?` instead: binding a numbered parameter looks its
/// name up in a list as long as the statement's parameters, which made a 1,000-parameter INSERT spend
/// more time binding than writing.
#[doc(hidden)]
pub fn value_rows(database: &str, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 6);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 1..=columns {
            if c > 1 {
                sql.push_str(", ");
            }
            sql.push_str(&placeholder(database, r * columns + c));
        }
        sql.push(')');
    }
    sql
}

/// Parameter `n` (from 1) of a statement whose parameters appear in the text in the order they are bound:
/// `$n`, or a bare `?` on SQLite (see [`value_rows`]).
#[doc(hidden)]
pub fn placeholder(database: &str, n: usize) -> String {
    if database == "SQLite" { "?".into() } else { format!("${n}") }
}

/// Renumbers the `$n` placeholders of `sql` by `by`, so that a statement can follow another one's
/// parameters in one call. Gridward's SQL has no `$` inside string literals.
pub fn shift_placeholders(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut digits = String::new();
        while let Some(&(_, d)) = chars.peek()
            && d.is_ascii_digit()
        {
            digits.push(d);
            chars.next();
        }
        match digits.parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&digits),
        }
    }
    out
}

/// Defines `fn migrator()` over a backend's migrations, given as `(version, description, sql)` with the
/// SQL from `include_str!` in the backend crate. Run with the caller's `sqlx` in scope.
#[macro_export]
macro_rules! migrations {
    ($(($version:expr, $description:expr, $sql:expr)),+ $(,)?) => {
        fn migrator() -> sqlx::migrate::Migrator {
            sqlx::migrate::Migrator::with_migrations(vec![$(
                sqlx::migrate::Migration::new(
                    $version,
                    $description.into(),
                    sqlx::migrate::MigrationType::Simple,
                    sqlx::SqlStr::from_static($sql),
                    false,
                )
            ),+])
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn value_rows_number_parameters_except_on_sqlite() {
        assert_eq!(super::value_rows("PostgreSQL", 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::value_rows("SQLite", 2, 3), "(?, ?, ?), (?, ?, ?)");
    }

    #[test]
    fn placeholders_shift_past_the_first_statement() {
        assert_eq!(
            super::shift_placeholders("UPDATE t SET a = $2, b = $10 WHERE c = $1", 9),
            "UPDATE t SET a = $11, b = $19 WHERE c = $10"
        );
        assert_eq!(super::shift_placeholders("SELECT 1", 9), "SELECT 1");
    }
}
