//! The report SQL both backends run, expanded in each backend crate after `impl_sql_store!` (whose helpers
//! it uses: `begin_recorded`, `insert_entries`, `db_err`, `to_payload`).

#[macro_export]
macro_rules! impl_sql_report_store {
    ($store:ty, $db:ty, $row:ty) => {
        fn report_row(r: &$row) -> DbResult<$crate::reports::ReportRecord> {
            use $crate::reports::decode;
            Ok($crate::reports::ReportRecord {
                id: r.try_get("id").map_err(db_err)?,
                token: r.try_get("token").map_err(db_err)?,
                service_code: r.try_get("service_code").map_err(db_err)?,
                channel: decode::channel(&r.try_get::<String, _>("channel").map_err(db_err)?)?,
                client: r.try_get("client").map_err(db_err)?,
                state: decode::state(&r.try_get::<String, _>("state").map_err(db_err)?)?,
                cancel_reason: decode::cancel_reason(r.try_get("cancel_reason").map_err(db_err)?)?,
                severity: decode::severity(&r.try_get::<String, _>("severity").map_err(db_err)?)?,
                description: r.try_get("description").map_err(db_err)?,
                address: r.try_get("address").map_err(db_err)?,
                lon: r.try_get("lon").map_err(db_err)?,
                lat: r.try_get("lat").map_err(db_err)?,
                grid_code: r.try_get("grid_code").map_err(db_err)?,
                jurisdiction: r.try_get("jurisdiction").map_err(db_err)?,
                squad: r.try_get("squad").map_err(db_err)?,
                officer: r.try_get("officer").map_err(db_err)?,
                duplicate_of: r.try_get("duplicate_of").map_err(db_err)?,
                reporter: decode::json("reporter", &r.try_get::<String, _>("reporter").map_err(db_err)?)?,
                attributes: decode::json("attributes", &r.try_get::<String, _>("attributes").map_err(db_err)?)?,
                media_url: r.try_get("media_url").map_err(db_err)?,
                submitted_at: r.try_get("submitted_at").map_err(db_err)?,
                updated_at: r.try_get("updated_at").map_err(db_err)?,
                step_due: r.try_get("step_due").map_err(db_err)?,
                escalated: r.try_get("escalated").map_err(db_err)?,
                reworks: r.try_get("reworks").map_err(db_err)?,
                closed_at: r.try_get("closed_at").map_err(db_err)?,
                case_ref: r.try_get("case_ref").map_err(db_err)?,
                ledger_seq: r.try_get("ledger_seq").map_err(db_err)?,
            })
        }

        fn report_update_row(r: &$row) -> DbResult<$crate::reports::ReportUpdate> {
            Ok($crate::reports::ReportUpdate {
                id: r.try_get("id").map_err(db_err)?,
                report_id: r.try_get("report_id").map_err(db_err)?,
                action: r.try_get("action").map_err(db_err)?,
                state: $crate::reports::decode::state(&r.try_get::<String, _>("state").map_err(db_err)?)?,
                note: r.try_get("note").map_err(db_err)?,
                public_note: r.try_get("public_note").map_err(db_err)?,
                actor: r.try_get("actor").map_err(db_err)?,
                at: r.try_get("at").map_err(db_err)?,
                ledger_seq: r.try_get("ledger_seq").map_err(db_err)?,
            })
        }

        fn open311_key_row(r: &$row) -> DbResult<$crate::reports::Open311Key> {
            Ok($crate::reports::Open311Key {
                name: r.try_get("name").map_err(db_err)?,
                key_hash: r.try_get("key_hash").map_err(db_err)?,
                contact: r.try_get("contact").map_err(db_err)?,
                created_by: r.try_get("created_by").map_err(db_err)?,
                created_at: r.try_get("created_at").map_err(db_err)?,
                revoked_at: r.try_get("revoked_at").map_err(db_err)?,
            })
        }

        fn reward_row(r: &$row) -> DbResult<$crate::reports::RewardRecord> {
            Ok($crate::reports::RewardRecord {
                report_id: r.try_get("report_id").map_err(db_err)?,
                reporter_key: r.try_get("reporter_key").map_err(db_err)?,
                month: r.try_get("month").map_err(db_err)?,
                amount: r.try_get("amount").map_err(db_err)?,
                state: r.try_get("state").map_err(db_err)?,
                decided_by: r.try_get("decided_by").map_err(db_err)?,
                updated_at: r.try_get("updated_at").map_err(db_err)?,
            })
        }

        /// Binds a report's columns in `REPORT_COLUMNS` order.
        fn bind_report<'q>(
            q: sqlx::query::Query<'q, $db, Arguments>,
            r: &$crate::reports::ReportRecord,
            seq: i64,
        ) -> DbResult<sqlx::query::Query<'q, $db, Arguments>> {
            let reporter = serde_json::to_string(&r.reporter).map_err(|e| DbError::Corrupt(e.to_string()))?;
            let attributes = serde_json::to_string(&r.attributes).map_err(|e| DbError::Corrupt(e.to_string()))?;
            Ok(q.bind(r.id)
                .bind(r.token.clone())
                .bind(r.service_code.clone())
                .bind(r.channel.as_str())
                .bind(r.client.clone())
                .bind(r.state.as_str())
                .bind(r.cancel_reason.map(|c| c.as_str()))
                .bind(r.severity.as_str())
                .bind(r.description.clone())
                .bind(r.address.clone())
                .bind(r.lon)
                .bind(r.lat)
                .bind(r.grid_code.clone())
                .bind(r.jurisdiction.clone())
                .bind(r.squad.clone())
                .bind(r.officer.clone())
                .bind(r.duplicate_of)
                .bind(reporter)
                .bind(attributes)
                .bind(r.media_url.clone())
                .bind(r.submitted_at)
                .bind(r.updated_at)
                .bind(r.step_due)
                .bind(r.escalated)
                .bind(r.reworks)
                .bind(r.closed_at)
                .bind(r.case_ref.clone())
                .bind(seq)
                .bind(r.lon.zip(r.lat).map(|(lon, lat)| $crate::reports::place_cell(lon, lat))))
        }

        fn bind_filter<'q>(
            mut q: sqlx::query::Query<'q, $db, Arguments>,
            binds: Vec<$crate::reports::FilterValue>,
        ) -> sqlx::query::Query<'q, $db, Arguments> {
            for value in binds {
                q = match value {
                    $crate::reports::FilterValue::Text(t) => q.bind(t),
                    $crate::reports::FilterValue::Int(i) => q.bind(i),
                };
            }
            q
        }

        /// Open reports that may be repeated by reports in `areas`, made at or after `from`; read inside the
        /// transaction that stores the new reports, so none can be closed or added meanwhile.
        async fn open_reports_near(
            tx: &mut sqlx::Transaction<'static, $db>,
            areas: &[$crate::reports::NearArea],
            from: i64,
        ) -> DbResult<Vec<$crate::reports::NearbyReport>> {
            if areas.is_empty() {
                return Ok(Vec::new());
            }
            let database = <$db as sqlx::Database>::NAME;
            let (sql, services) = $crate::reports::open_reports_near_sql(areas, |n| $crate::sql::placeholder(database, n));
            // Each batch's text is new: kept out of the statement cache, it does not push the inserts out.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
            for service in services {
                q = q.bind(service);
            }
            let rows = q.bind(from).fetch_all(&mut **tx).await.map_err(db_err)?;
            rows.iter()
                .map(|r| {
                    Ok($crate::reports::NearbyReport {
                        id: r.try_get("id").map_err(db_err)?,
                        service_code: r.try_get("service_code").map_err(db_err)?,
                        lon: r.try_get("lon").map_err(db_err)?,
                        lat: r.try_get("lat").map_err(db_err)?,
                        submitted_at: r.try_get("submitted_at").map_err(db_err)?,
                    })
                })
                .collect()
        }

        /// Inserts update rows, many per statement, each naming its entry.
        async fn insert_report_updates(
            tx: &mut sqlx::Transaction<'static, $db>,
            updates: &[($crate::reports::ReportUpdate, i64)],
        ) -> DbResult<()> {
            for chunk in updates.chunks($crate::reports::REPORTS_PER_INSERT) {
                let mut sql =
                    String::from("INSERT INTO report_updates (report_id, action, state, note, public_note, actor, at, ledger_seq) VALUES ");
                sql.push_str(&$crate::sql::value_rows(<$db as sqlx::Database>::NAME, chunk.len(), 8));
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (u, seq) in chunk {
                    q = q
                        .bind(u.report_id)
                        .bind(u.action.clone())
                        .bind(u.state.as_str())
                        .bind(u.note.clone())
                        .bind(u.public_note.clone())
                        .bind(u.actor.clone())
                        .bind(u.at)
                        .bind(*seq);
                }
                q.execute(&mut **tx).await.map_err(db_err)?;
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::reports::ReportStore for $store {
            async fn set_services(&self, services: &[gridward_domain::report::Service], change: &$crate::Change) -> DbResult<usize> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let rows = sqlx::query("SELECT code, definition FROM report_services").fetch_all(&mut *tx).await.map_err(db_err)?;
                let mut current = std::collections::HashMap::new();
                for r in &rows {
                    current.insert(r.try_get::<String, _>("code").map_err(db_err)?, r.try_get::<String, _>("definition").map_err(db_err)?);
                }
                let mut changed = Vec::new();
                for s in services {
                    let definition = serde_json::to_string(s).map_err(|e| DbError::Corrupt(e.to_string()))?;
                    if current.get(&s.code) != Some(&definition) {
                        changed.push((s, definition));
                    }
                }
                let records: Vec<$crate::ledger::Record<'_>> = changed
                    .iter()
                    .map(|(s, _)| {
                        Ok($crate::ledger::Record {
                            action: if current.contains_key(&s.code) { "service.revise" } else { "service.add" },
                            object_type: "service",
                            object_id: &s.code,
                            jurisdiction: "",
                            payload: to_payload(s)?,
                        })
                    })
                    .collect::<DbResult<_>>()?;
                let first = insert_entries(&mut tx, algorithm, &records, change).await?;
                for (i, (s, definition)) in changed.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO report_services (code, definition, power_code, public, ledger_seq) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (code) DO UPDATE SET definition = excluded.definition, power_code = excluded.power_code,
                         public = excluded.public, ledger_seq = excluded.ledger_seq",
                    )
                    .bind(&s.code)
                    .bind(definition)
                    .bind(&s.power_code)
                    .bind(s.public)
                    .bind(first + i as i64)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(changed.len())
            }

            async fn services(&self) -> DbResult<Vec<gridward_domain::report::Service>> {
                let rows = sqlx::query("SELECT definition FROM report_services ORDER BY code").fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter()
                    .map(|r| $crate::reports::decode::json("service", &r.try_get::<String, _>("definition").map_err(db_err)?))
                    .collect()
            }

            async fn submit_reports(
                &self,
                reports: &[$crate::reports::ReportRecord],
                duplicates: Option<gridward_domain::report::DuplicateRule>,
                change: &$crate::Change,
            ) -> DbResult<Vec<$crate::reports::ReportRecord>> {
                if reports.is_empty() {
                    return Ok(Vec::new());
                }
                let (mut tx, algorithm) = self.begin_recorded().await?;
                // The ledger's write lock is held, so no other writer numbers reports meanwhile.
                let next: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM reports").fetch_one(&mut *tx).await.map_err(db_err)?;
                let mut stored: Vec<$crate::reports::ReportRecord> = reports
                    .iter()
                    .enumerate()
                    .map(|(i, r)| $crate::reports::ReportRecord { id: next + i as i64, ..r.clone() })
                    .collect();
                if let Some(rule) = duplicates {
                    let (areas, from) = $crate::reports::duplicate_search(&stored, rule);
                    let nearby = open_reports_near(&mut tx, &areas, from).await?;
                    $crate::reports::link_duplicates(&mut stored, &nearby, rule);
                }
                let ids: Vec<String> = stored.iter().map(|r| r.id.to_string()).collect();
                let records: Vec<$crate::ledger::Record<'_>> = stored
                    .iter()
                    .zip(&ids)
                    .map(|(r, id)| $crate::ledger::Record {
                        action: "report.submit",
                        object_type: "report",
                        object_id: id,
                        jurisdiction: &r.jurisdiction,
                        payload: r.entry_payload(algorithm),
                    })
                    .collect();
                let first = insert_entries(&mut tx, algorithm, &records, change).await?;
                for (i, r) in stored.iter_mut().enumerate() {
                    r.ledger_seq = first + i as i64;
                }
                for chunk in stored.chunks($crate::reports::REPORTS_PER_INSERT) {
                    let mut sql = format!("INSERT INTO reports ({}) VALUES ", $crate::reports::REPORT_COLUMNS.join(", "));
                    sql.push_str(&$crate::sql::value_rows(<$db as sqlx::Database>::NAME, chunk.len(), $crate::reports::REPORT_COLUMNS.len()));
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for r in chunk {
                        q = bind_report(q, r, r.ledger_seq)?;
                    }
                    q.execute(&mut *tx).await.map_err(db_err)?;
                }
                let updates: Vec<($crate::reports::ReportUpdate, i64)> = stored
                    .iter()
                    .map(|r| {
                        (
                            $crate::reports::ReportUpdate {
                                id: 0,
                                report_id: r.id,
                                action: "submit".into(),
                                state: r.state,
                                note: String::new(),
                                public_note: match r.duplicate_of {
                                    Some(of) => format!("duplicate of {of}"),
                                    None => String::new(),
                                },
                                actor: change.actor.name.clone(),
                                at: change.at,
                                ledger_seq: r.ledger_seq,
                            },
                            r.ledger_seq,
                        )
                    })
                    .collect();
                insert_report_updates(&mut tx, &updates).await?;
                tx.commit().await.map_err(db_err)?;
                Ok(stored)
            }

            async fn report(&self, id: i64) -> DbResult<Option<$crate::reports::ReportRecord>> {
                let row = sqlx::query("SELECT * FROM reports WHERE id = $1").bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(report_row).transpose()
            }

            async fn report_by_token(&self, token: &str) -> DbResult<Option<$crate::reports::ReportRecord>> {
                let row = sqlx::query("SELECT * FROM reports WHERE token = $1").bind(token).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(report_row).transpose()
            }

            async fn reports(&self, query: &$crate::reports::ReportQuery) -> DbResult<Vec<$crate::reports::ReportRecord>> {
                let (clause, binds) = $crate::reports::report_filter(query);
                let order = if query.newest_first { "DESC" } else { "ASC" };
                let limit = if query.limit == 0 { 1000 } else { query.limit };
                let sql = format!("SELECT * FROM reports{clause} ORDER BY id {order} LIMIT {limit} OFFSET {}", query.offset);
                let rows = bind_filter(sqlx::query(sqlx::AssertSqlSafe(sql)), binds).fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(report_row).collect()
            }

            async fn count_reports(&self, query: &$crate::reports::ReportQuery) -> DbResult<u64> {
                let (clause, binds) = $crate::reports::report_filter(query);
                let sql = format!("SELECT count(*) AS n FROM reports{clause}");
                let row = bind_filter(sqlx::query(sqlx::AssertSqlSafe(sql)), binds).fetch_one(&self.pool).await.map_err(db_err)?;
                Ok(row.try_get::<i64, _>("n").map_err(db_err)? as u64)
            }

            async fn update_report(
                &self,
                report: &$crate::reports::ReportRecord,
                expected_seq: i64,
                update: &$crate::reports::ReportUpdate,
                change: &$crate::Change,
            ) -> DbResult<Option<$crate::reports::ReportRecord>> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let current: Option<i64> =
                    sqlx::query_scalar("SELECT ledger_seq FROM reports WHERE id = $1").bind(report.id).fetch_optional(&mut *tx).await.map_err(db_err)?;
                if current != Some(expected_seq) {
                    return Ok(None);
                }
                let id = report.id.to_string();
                let mut payload = report.entry_payload(algorithm);
                if let Some(map) = payload.as_object_mut() {
                    map.insert("step".into(), serde_json::json!({"action": update.action, "note": update.note, "public_note": update.public_note}));
                }
                let action = format!("report.{}", update.action);
                let record = $crate::ledger::Record { action: &action, object_type: "report", object_id: &id, jurisdiction: &report.jurisdiction, payload };
                let seq = insert_entries(&mut tx, algorithm, std::slice::from_ref(&record), change).await?;
                let sets = $crate::reports::REPORT_COLUMNS
                    .iter()
                    .enumerate()
                    .skip(1)
                    .map(|(i, c)| format!("{c} = ${}", i + 1))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!("UPDATE reports SET {sets} WHERE id = $1");
                let done = bind_report(sqlx::query(sqlx::AssertSqlSafe(sql)), report, seq)?.execute(&mut *tx).await.map_err(db_err)?;
                if done.rows_affected() != 1 {
                    return Err(DbError::Conflict("the report was not written".into()));
                }
                insert_report_updates(&mut tx, &[(update.clone(), seq)]).await?;
                tx.commit().await.map_err(db_err)?;
                Ok(Some($crate::reports::ReportRecord { ledger_seq: seq, ..report.clone() }))
            }

            async fn report_updates(&self, report_id: i64) -> DbResult<Vec<$crate::reports::ReportUpdate>> {
                let rows = sqlx::query("SELECT * FROM report_updates WHERE report_id = $1 ORDER BY id")
                    .bind(report_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(report_update_row).collect()
            }

            async fn updates_of_reports(&self, report_ids: &[i64]) -> DbResult<Vec<$crate::reports::ReportUpdate>> {
                if report_ids.is_empty() {
                    return Ok(Vec::new());
                }
                // Numbers, not text: the list is safe to write into the statement.
                let list = report_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
                let sql = format!("SELECT * FROM report_updates WHERE report_id IN ({list}) ORDER BY id");
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(report_update_row).collect()
            }

            async fn photos_of_reports(&self, report_ids: &[i64]) -> DbResult<Vec<$crate::EvidenceRecord>> {
                if report_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let list = report_ids.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(",");
                let sql = format!("SELECT * FROM evidence WHERE object_type = 'report' AND kind = 'photo' AND object_id IN ({list}) ORDER BY ledger_seq");
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(evidence_row).collect()
            }

            async fn updates_between(&self, from: i64, to: i64, limit: u32) -> DbResult<Vec<$crate::reports::ReportUpdate>> {
                let rows = sqlx::query("SELECT * FROM report_updates WHERE at >= $1 AND at < $2 ORDER BY id LIMIT $3")
                    .bind(from)
                    .bind(to)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(report_update_row).collect()
            }

            async fn add_open311_key(&self, key: &$crate::reports::Open311Key, change: &$crate::Change) -> DbResult<()> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let record = $crate::ledger::Record {
                    action: "open311_key.issue",
                    object_type: "open311_key",
                    object_id: &key.name,
                    jurisdiction: "",
                    payload: serde_json::json!({"name": key.name, "contact": key.contact, "key_hash": key.key_hash}),
                };
                let seq = insert_entries(&mut tx, algorithm, std::slice::from_ref(&record), change).await?;
                sqlx::query(
                    "INSERT INTO open311_keys (name, key_hash, contact, created_by, created_at, revoked_at, ledger_seq)
                     VALUES ($1, $2, $3, $4, $5, NULL, $6)",
                )
                .bind(&key.name)
                .bind(&key.key_hash)
                .bind(&key.contact)
                .bind(&key.created_by)
                .bind(key.created_at)
                .bind(seq)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(())
            }

            async fn open311_keys(&self) -> DbResult<Vec<$crate::reports::Open311Key>> {
                let rows = sqlx::query("SELECT * FROM open311_keys ORDER BY name").fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(open311_key_row).collect()
            }

            async fn open311_key_by_hash(&self, key_hash: &str) -> DbResult<Option<$crate::reports::Open311Key>> {
                let row = sqlx::query("SELECT * FROM open311_keys WHERE key_hash = $1").bind(key_hash).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(open311_key_row).transpose()
            }

            async fn revoke_open311_key(&self, name: &str, change: &$crate::Change) -> DbResult<bool> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let live: Option<String> = sqlx::query_scalar("SELECT name FROM open311_keys WHERE name = $1 AND revoked_at IS NULL")
                    .bind(name)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if live.is_none() {
                    return Ok(false);
                }
                let record = $crate::ledger::Record {
                    action: "open311_key.revoke",
                    object_type: "open311_key",
                    object_id: name,
                    jurisdiction: "",
                    payload: serde_json::json!({"name": name}),
                };
                let seq = insert_entries(&mut tx, algorithm, std::slice::from_ref(&record), change).await?;
                sqlx::query("UPDATE open311_keys SET revoked_at = $1, ledger_seq = $2 WHERE name = $3")
                    .bind(change.at)
                    .bind(seq)
                    .bind(name)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }

            async fn put_reward(&self, reward: &$crate::reports::RewardRecord, change: &$crate::Change) -> DbResult<()> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let id = reward.report_id.to_string();
                let record = $crate::ledger::Record {
                    action: if reward.state == "pending" { "reward.propose" } else { "reward.decide" },
                    object_type: "reward",
                    object_id: &id,
                    jurisdiction: "",
                    payload: to_payload(reward)?,
                };
                let seq = insert_entries(&mut tx, algorithm, std::slice::from_ref(&record), change).await?;
                sqlx::query(
                    "INSERT INTO rewards (report_id, reporter_key, month, amount, state, decided_by, updated_at, ledger_seq)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (report_id) DO UPDATE SET amount = excluded.amount, state = excluded.state,
                     decided_by = excluded.decided_by, updated_at = excluded.updated_at, ledger_seq = excluded.ledger_seq",
                )
                .bind(reward.report_id)
                .bind(&reward.reporter_key)
                .bind(&reward.month)
                .bind(reward.amount)
                .bind(&reward.state)
                .bind(reward.decided_by.as_deref())
                .bind(reward.updated_at)
                .bind(seq)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(())
            }

            async fn rewards(&self) -> DbResult<Vec<$crate::reports::RewardRecord>> {
                let rows = sqlx::query("SELECT * FROM rewards ORDER BY report_id").fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(reward_row).collect()
            }

            async fn reward(&self, report_id: i64) -> DbResult<Option<$crate::reports::RewardRecord>> {
                let row = sqlx::query("SELECT * FROM rewards WHERE report_id = $1").bind(report_id).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(reward_row).transpose()
            }

            async fn awarded_in_month(&self, reporter_key: &str, month: &str) -> DbResult<i64> {
                let total: Option<i64> = sqlx::query_scalar(
                    "SELECT CAST(sum(amount) AS BIGINT) FROM rewards WHERE reporter_key = $1 AND month = $2 AND state <> 'refused'",
                )
                .bind(reporter_key)
                .bind(month)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(total.unwrap_or(0))
            }
        }
    };
}
