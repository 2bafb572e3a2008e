//! The case SQL both backends run, expanded in each backend crate after `impl_sql_store!` and
//! `impl_sql_report_store!` (whose helpers it uses: `begin_recorded`, `insert_entries`, `db_err`,
//! `bind_filter`).

#[macro_export]
macro_rules! impl_sql_case_store {
    ($store:ty, $db:ty, $row:ty) => {
        fn case_date(r: &$row, column: &str) -> DbResult<Option<gridward_domain::Date>> {
            let text: Option<String> = r.try_get(column).map_err(db_err)?;
            text.map(|t| t.parse().map_err(|_| DbError::Corrupt(format!("{column} {t:?}")))).transpose()
        }

        fn case_row(r: &$row) -> DbResult<$crate::cases::CaseRecord> {
            use $crate::reports::decode::json;
            let text = |c: &str| -> DbResult<String> { r.try_get::<String, _>(c).map_err(db_err) };
            let corrupt = |c: &str, v: String| DbError::Corrupt(format!("{c} {v:?}"));
            Ok($crate::cases::CaseRecord {
                id: r.try_get("id").map_err(db_err)?,
                number: text("number")?,
                body_code: text("body_code")?,
                jurisdiction: text("jurisdiction")?,
                procedure: { let v = text("procedure")?; gridward_domain::case::Procedure::parse(&v).ok_or_else(|| corrupt("procedure", v))? },
                stage: { let v = text("stage")?; gridward_domain::case::Stage::parse(&v).ok_or_else(|| corrupt("stage", v))? },
                source: { let v = text("source")?; gridward_domain::case::CaseSource::parse(&v).ok_or_else(|| corrupt("source", v))? },
                source_ref: text("source_ref")?,
                power_code: text("power_code")?,
                party_kind: { let v = text("party_kind")?; gridward_domain::party::PartyKind::parse(&v).ok_or_else(|| corrupt("party_kind", v))? },
                party_name: text("party_name")?,
                officers: json("officers", &text("officers")?)?,
                fine_yuan: r.try_get("fine_yuan").map_err(db_err)?,
                next_due: case_date(r, "next_due")?,
                next_due_code: r.try_get("next_due_code").map_err(db_err)?,
                proposed_on: case_date(r, "proposed_on")?.ok_or_else(|| DbError::Corrupt("proposed_on".into()))?,
                decided_on: case_date(r, "decided_on")?,
                closed_on: case_date(r, "closed_on")?,
                crime_indicator: r.try_get("crime_indicator").map_err(db_err)?,
                transfer_state: r.try_get("transfer_state").map_err(db_err)?,
                updated_at: r.try_get("updated_at").map_err(db_err)?,
                ledger_seq: r.try_get("ledger_seq").map_err(db_err)?,
            })
        }

        fn case_step_row(r: &$row) -> DbResult<$crate::cases::CaseStepRecord> {
            Ok($crate::cases::CaseStepRecord {
                id: r.try_get("id").map_err(db_err)?,
                case_id: r.try_get("case_id").map_err(db_err)?,
                step: r.try_get("step").map_err(db_err)?,
                body: $crate::reports::decode::json("case step", &r.try_get::<String, _>("body").map_err(db_err)?)?,
                actor: r.try_get("actor").map_err(db_err)?,
                at: r.try_get("at").map_err(db_err)?,
                ledger_seq: r.try_get("ledger_seq").map_err(db_err)?,
            })
        }

        fn case_document_row(r: &$row) -> DbResult<$crate::cases::CaseDocument> {
            Ok($crate::cases::CaseDocument {
                id: r.try_get("id").map_err(db_err)?,
                case_id: r.try_get("case_id").map_err(db_err)?,
                kind: r.try_get("kind").map_err(db_err)?,
                body_code: r.try_get("body_code").map_err(db_err)?,
                year: r.try_get::<i32, _>("year").map_err(db_err)? as i16,
                seq: r.try_get("seq").map_err(db_err)?,
                number: r.try_get("number").map_err(db_err)?,
                content: $crate::reports::decode::json("document", &r.try_get::<String, _>("content").map_err(db_err)?)?,
                digest: r.try_get("digest").map_err(db_err)?,
                issued_at: r.try_get("issued_at").map_err(db_err)?,
                ledger_seq: r.try_get("ledger_seq").map_err(db_err)?,
            })
        }

        fn bind_case<'q>(
            q: sqlx::query::Query<'q, $db, Arguments>,
            c: &'q $crate::cases::CaseRecord,
            seq: i64,
        ) -> DbResult<sqlx::query::Query<'q, $db, Arguments>> {
            Ok(q.bind(c.id)
                .bind(&c.number)
                .bind(&c.body_code)
                .bind(&c.jurisdiction)
                .bind(c.procedure.as_str())
                .bind(c.stage.as_str())
                .bind(c.source.as_str())
                .bind(&c.source_ref)
                .bind(&c.power_code)
                .bind(c.party_kind.as_str())
                .bind(&c.party_name)
                .bind(serde_json::to_string(&c.officers).map_err(|e| DbError::Corrupt(e.to_string()))?)
                .bind(c.fine_yuan)
                .bind(c.next_due.map(|d| d.to_string()))
                .bind(c.next_due_code.clone())
                .bind(c.proposed_on.to_string())
                .bind(c.decided_on.map(|d| d.to_string()))
                .bind(c.closed_on.map(|d| d.to_string()))
                .bind(c.crime_indicator)
                .bind(c.transfer_state.clone())
                .bind(c.updated_at)
                .bind(seq))
        }

        /// Numbers the documents and appends the entry that names the step and them all; the rows follow
        /// in [`store_case_step_rows`] once the case row is written.
        async fn record_case_step(
            tx: &mut sqlx::Transaction<'static, $db>,
            algorithm: gridward_ledger::HashAlgorithm,
            case: &$crate::cases::CaseRecord,
            step: &$crate::cases::CaseStepRecord,
            documents: &[$crate::cases::NewDocument],
            change: &$crate::Change,
        ) -> DbResult<(i64, Vec<$crate::cases::CaseDocument>)> {
            let mut issued = Vec::new();
            let mut next_doc: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM case_documents").fetch_one(&mut **tx).await.map_err(db_err)?;
            for d in documents {
                let seq: i32 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) + 1 FROM case_documents WHERE body_code = $1 AND kind = $2 AND year = $3")
                    .bind(&case.body_code)
                    .bind(&d.kind)
                    .bind(i32::from(d.year))
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(db_err)?;
                let number = $crate::cases::numbered(&d.prefix, d.year, i64::from(seq));
                let mut content = d.content.clone();
                $crate::cases::fill_case_number(&mut content, &case.number);
                let digest = algorithm.digest(&$crate::cases::CaseDocument::digest_input(&number, &content)).to_hex();
                issued.push($crate::cases::CaseDocument {
                    id: next_doc,
                    case_id: case.id,
                    kind: d.kind.clone(),
                    body_code: case.body_code.clone(),
                    year: d.year,
                    seq,
                    number,
                    content,
                    digest,
                    issued_at: change.at,
                    ledger_seq: 0,
                });
                next_doc += 1;
            }
            let id = case.id.to_string();
            let action = format!("case.{}", step.step);
            let payload = $crate::cases::step_entry_payload(algorithm, case, &step.body, &issued);
            let record = $crate::ledger::Record { action: &action, object_type: "case", object_id: &id, jurisdiction: &case.jurisdiction, payload };
            let seq = insert_entries(tx, algorithm, std::slice::from_ref(&record), change).await?;
            for d in &mut issued {
                d.ledger_seq = seq;
            }
            Ok((seq, issued))
        }

        async fn store_case_step_rows(
            tx: &mut sqlx::Transaction<'static, $db>,
            case_id: i64,
            step: &$crate::cases::CaseStepRecord,
            issued: &[$crate::cases::CaseDocument],
            seq: i64,
        ) -> DbResult<()> {
            for d in issued {
                sqlx::query(
                    "INSERT INTO case_documents (id, case_id, kind, body_code, year, seq, number, content, digest, issued_at, ledger_seq)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(d.id)
                .bind(d.case_id)
                .bind(&d.kind)
                .bind(&d.body_code)
                .bind(i32::from(d.year))
                .bind(d.seq)
                .bind(&d.number)
                .bind(serde_json::to_string(&d.content).map_err(|e| DbError::Corrupt(e.to_string()))?)
                .bind(&d.digest)
                .bind(d.issued_at)
                .bind(seq)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            }
            let step_id: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM case_steps").fetch_one(&mut **tx).await.map_err(db_err)?;
            sqlx::query("INSERT INTO case_steps (id, case_id, step, body, actor, at, ledger_seq) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(step_id)
                .bind(case_id)
                .bind(&step.step)
                .bind(serde_json::to_string(&step.body).map_err(|e| DbError::Corrupt(e.to_string()))?)
                .bind(&step.actor)
                .bind(step.at)
                .bind(seq)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::cases::CaseStore for $store {
            async fn open_case(
                &self,
                case: &$crate::cases::CaseRecord,
                prefix: &str,
                step: &$crate::cases::CaseStepRecord,
                documents: &[$crate::cases::NewDocument],
                change: &$crate::Change,
            ) -> DbResult<($crate::cases::CaseRecord, Vec<$crate::cases::CaseDocument>)> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                // The ledger's write lock is held, so no other writer numbers cases meanwhile.
                let id: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM cases").fetch_one(&mut *tx).await.map_err(db_err)?;
                let year = case.proposed_on.year();
                let in_year: i64 = sqlx::query_scalar("SELECT count(*) FROM cases WHERE body_code = $1 AND proposed_on LIKE $2")
                    .bind(&case.body_code)
                    .bind(format!("{year}-%"))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let mut stored = $crate::cases::CaseRecord { id, number: $crate::cases::numbered(prefix, year, in_year + 1), ..case.clone() };
                let (seq, documents) = record_case_step(&mut tx, algorithm, &stored, step, documents, change).await?;
                stored.ledger_seq = seq;
                let sql = format!(
                    "INSERT INTO cases ({}) VALUES {}",
                    $crate::cases::CASE_COLUMNS.join(", "),
                    $crate::sql::value_rows(<$db as sqlx::Database>::NAME, 1, $crate::cases::CASE_COLUMNS.len())
                );
                bind_case(sqlx::query(sqlx::AssertSqlSafe(sql)), &stored, seq)?.execute(&mut *tx).await.map_err(db_err)?;
                store_case_step_rows(&mut tx, id, step, &documents, seq).await?;
                tx.commit().await.map_err(db_err)?;
                Ok((stored, documents))
            }

            async fn add_case_step(
                &self,
                case: &$crate::cases::CaseRecord,
                expected_seq: i64,
                step: &$crate::cases::CaseStepRecord,
                documents: &[$crate::cases::NewDocument],
                change: &$crate::Change,
            ) -> DbResult<Option<($crate::cases::CaseRecord, Vec<$crate::cases::CaseDocument>)>> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let current: Option<i64> =
                    sqlx::query_scalar("SELECT ledger_seq FROM cases WHERE id = $1").bind(case.id).fetch_optional(&mut *tx).await.map_err(db_err)?;
                if current != Some(expected_seq) {
                    return Ok(None);
                }
                let (seq, documents) = record_case_step(&mut tx, algorithm, case, step, documents, change).await?;
                let sets = $crate::cases::CASE_COLUMNS
                    .iter()
                    .enumerate()
                    .skip(2)
                    .map(|(i, c)| format!("{c} = ${}", i + 1))
                    .collect::<Vec<_>>()
                    .join(", ");
                // The number never changes: bound as $2 and left out of the SET list.
                let sql = format!("UPDATE cases SET {sets} WHERE id = $1 AND number = $2");
                let done = bind_case(sqlx::query(sqlx::AssertSqlSafe(sql)), case, seq)?.execute(&mut *tx).await.map_err(db_err)?;
                if done.rows_affected() != 1 {
                    return Err(DbError::Conflict("the case was not written".into()));
                }
                store_case_step_rows(&mut tx, case.id, step, &documents, seq).await?;
                tx.commit().await.map_err(db_err)?;
                Ok(Some(($crate::cases::CaseRecord { ledger_seq: seq, ..case.clone() }, documents)))
            }

            async fn case(&self, id: i64) -> DbResult<Option<$crate::cases::CaseRecord>> {
                let row = sqlx::query("SELECT * FROM cases WHERE id = $1").bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(case_row).transpose()
            }

            async fn cases(&self, query: &$crate::cases::CaseQuery) -> DbResult<Vec<$crate::cases::CaseRecord>> {
                let (clause, binds) = $crate::cases::case_filter(query);
                let limit = if query.limit == 0 { 1000 } else { query.limit };
                let order = if query.due_by.is_some() { "next_due ASC, id ASC" } else { "id DESC" };
                let sql = format!("SELECT * FROM cases{clause} ORDER BY {order} LIMIT {limit}");
                let rows = bind_filter(sqlx::query(sqlx::AssertSqlSafe(sql)), binds).fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(case_row).collect()
            }

            async fn case_steps(&self, case_id: i64) -> DbResult<Vec<$crate::cases::CaseStepRecord>> {
                let rows = sqlx::query("SELECT * FROM case_steps WHERE case_id = $1 ORDER BY id").bind(case_id).fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(case_step_row).collect()
            }

            async fn add_calendar_days(&self, days: &[(String, String, String)], change: &$crate::Change) -> DbResult<()> {
                let (mut tx, algorithm) = self.begin_recorded().await?;
                let mut years: Vec<String> = days.iter().map(|(d, _, _)| d.chars().take(4).collect()).collect();
                years.sort();
                years.dedup();
                let records: Vec<$crate::ledger::Record<'_>> = years
                    .iter()
                    .map(|year| {
                        let rows: Vec<_> = days.iter().filter(|(d, _, _)| d.starts_with(year.as_str())).collect();
                        Ok($crate::ledger::Record {
                            action: "calendar.import",
                            object_type: "calendar",
                            object_id: year,
                            jurisdiction: "",
                            payload: to_payload(&rows)?,
                        })
                    })
                    .collect::<DbResult<_>>()?;
                let first = insert_entries(&mut tx, algorithm, &records, change).await?;
                for (day, kind, festival) in days {
                    let year: String = day.chars().take(4).collect();
                    let seq = first + years.iter().position(|y| *y == year).unwrap_or(0) as i64;
                    sqlx::query("INSERT INTO calendar_days (day, kind, festival, ledger_seq) VALUES ($1, $2, $3, $4)")
                        .bind(day)
                        .bind(kind)
                        .bind(festival)
                        .bind(seq)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(())
            }

            async fn calendar_days(&self) -> DbResult<Vec<(String, String, String)>> {
                let rows = sqlx::query("SELECT day, kind, festival FROM calendar_days ORDER BY day").fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter()
                    .map(|r| Ok((r.try_get("day").map_err(db_err)?, r.try_get("kind").map_err(db_err)?, r.try_get("festival").map_err(db_err)?)))
                    .collect()
            }

            async fn published_documents(&self, limit: u32) -> DbResult<Vec<$crate::cases::CaseDocument>> {
                let rows = sqlx::query(
                    "SELECT d.* FROM case_documents d WHERE d.kind = 'publication' AND NOT EXISTS
                     (SELECT 1 FROM case_documents w WHERE w.case_id = d.case_id AND w.kind = 'withdrawal' AND w.id > d.id)
                     ORDER BY d.id DESC LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.iter().map(case_document_row).collect()
            }

            async fn case_documents(&self, case_id: i64) -> DbResult<Vec<$crate::cases::CaseDocument>> {
                let rows = sqlx::query("SELECT * FROM case_documents WHERE case_id = $1 ORDER BY id").bind(case_id).fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(case_document_row).collect()
            }
        }
    };
}
