//! Intake: lines of the intake contract in; events, their pushes and their
//! audit records out. Lines are taken in batches, each inside one write
//! transaction. An event is accepted whole or not at all: a refused line
//! writes nothing but its reject row, and a failed batch writes nothing.

use crate::audit::{event_body, AuditWriter};
use crate::rows::{insert_events, insert_pushes, insert_rows, EventRow, PushRow};
use crate::{now, Result, Store, StoreError, WriteTx};
use ggzy_core::audit::sm3_hex;
use ggzy_core::engine::{
    complaint_id, decide, member_username, Change, ComplaintRecord, Context, Directory, Known,
    MemberRecord, StaffMember,
};
use ggzy_core::event::{parse, peek_id, Envelope, EventBody, Party};
use ggzy_core::render::Center;
use ggzy_core::role::Role;
use ggzy_core::workflow::{Progress, Project, ProjectParty};
use ggzy_core::Refusal;
use sqlx::pool::PoolConnection;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::collections::{HashMap, HashSet};
use std::io::BufRead;

/// Lines per transaction when importing a file.
pub const BATCH: usize = 2000;
/// Projects kept in memory between batches.
const CACHE_CAP: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    Accepted {
        event_id: String,
        pushes: usize,
    },
    Duplicate {
        event_id: String,
    },
    Refused {
        event_id: Option<String>,
        refusal: Refusal,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineResult {
    pub line: u64,
    pub outcome: LineOutcome,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub accepted: u64,
    pub duplicates: u64,
    pub pushes: u64,
    pub refused: Vec<LineResult>,
}

impl Summary {
    pub(crate) fn add(&mut self, results: Vec<LineResult>) {
        for r in results {
            match &r.outcome {
                LineOutcome::Accepted { pushes, .. } => {
                    self.accepted += 1;
                    self.pushes += *pushes as u64;
                }
                LineOutcome::Duplicate { .. } => self.duplicates += 1,
                LineOutcome::Refused { .. } => self.refused.push(r),
            }
        }
    }
}

/// A writer of intake lines; keeps its connection and a cache of projects
/// between batches, and drops the cache whenever someone else wrote.
pub struct Intake<'s> {
    store: &'s Store,
    source: String,
    conn: Option<PoolConnection<Sqlite>>,
    projects: HashMap<String, Project>,
    staff: Directory,
    center: Center,
    data_version: Option<i64>,
    /// Whether a line identical to an open reject is checked again (retry,
    /// a person's action) or reported as already refused (file import, so
    /// that importing a file twice changes nothing).
    reevaluate: bool,
}

impl Store {
    pub fn intake(&self, source: &str) -> Intake<'_> {
        Intake {
            store: self,
            source: source.to_owned(),
            conn: None,
            projects: HashMap::new(),
            staff: Directory::default(),
            center: Center::default(),
            data_version: None,
            reevaluate: false,
        }
    }

    /// An intake that checks again lines refused before.
    pub(crate) fn retrying_intake(&self, source: &str) -> Intake<'_> {
        Intake {
            reevaluate: true,
            ..self.intake(source)
        }
    }

    /// Import intake lines from a reader, streaming, `BATCH` lines a transaction.
    /// `progress(lines_done)` is called after each batch.
    pub async fn import(
        &self,
        mut reader: impl BufRead,
        source: &str,
        mut progress: impl FnMut(u64),
    ) -> Result<Summary> {
        let mut intake = self.intake(source);
        let mut summary = Summary::default();
        let mut batch: Vec<(u64, String)> = Vec::with_capacity(BATCH);
        let mut line_no = 0u64;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(|e| {
                StoreError::invalid(
                    "read_failed",
                    format!("读取输入第 {} 行失败：{e}", line_no + 1),
                )
            })?;
            if n > 0 {
                line_no += 1;
                let line = match std::str::from_utf8(&buf) {
                    Ok(s) => s.trim().to_owned(),
                    // Kept as a refused line: the parser reports it as malformed.
                    Err(_) => format!("\u{fffd}{}", String::from_utf8_lossy(&buf).trim()),
                };
                if !line.is_empty() {
                    batch.push((line_no, line));
                }
            }
            if batch.len() >= BATCH || (n == 0 && !batch.is_empty()) {
                summary.add(intake.submit(&batch).await?);
                batch.clear();
                progress(line_no);
            }
            if n == 0 {
                return Ok(summary);
            }
        }
    }

    /// Accept one event (the desktop app's actions): the same path as import.
    pub async fn submit_event(&self, source: &str, line: &str) -> Result<LineOutcome> {
        let mut results = self
            .retrying_intake(source)
            .submit(&[(1, line.to_owned())])
            .await?;
        Ok(results.remove(0).outcome)
    }
}

#[derive(Default)]
struct Pending {
    events: Vec<EventRow>,
    pushes: Vec<PushRow>,
    dirty: HashSet<String>,
    registered_at: HashMap<String, String>,
    parties: Vec<(String, ProjectParty, i64)>,
    members: HashMap<String, MemberRecord>,
    complaints: HashMap<String, (ComplaintRecord, String)>,
    surveys: Vec<Envelope>,
    rejects: Vec<(LineResult, String)>,
    accepted_ids: HashMap<String, String>,
}

impl Intake<'_> {
    /// Submit lines `(line number, text)` in one transaction.
    pub async fn submit(&mut self, lines: &[(u64, String)]) -> Result<Vec<LineResult>> {
        let conn = match self.conn.take() {
            Some(c) => c,
            None => self.store.pool().acquire().await?,
        };
        let mut tx = WriteTx::begin(conn).await?;
        match self.submit_in(tx.conn(), lines).await {
            Ok(results) => {
                self.conn = Some(tx.commit_keep().await?);
                Ok(results)
            }
            Err(e) => {
                self.projects.clear();
                self.data_version = None;
                if let Ok(c) = tx.rollback().await {
                    self.conn = Some(c);
                }
                Err(e)
            }
        }
    }

    async fn refresh(&mut self, conn: &mut SqliteConnection) -> Result<()> {
        let version: i64 = sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut *conn)
            .await?;
        if self.data_version == Some(version) && self.projects.len() <= CACHE_CAP {
            return Ok(());
        }
        self.projects.clear();
        self.staff = crate::users::directory(conn).await?;
        self.center = crate::settings::center(conn).await?;
        self.data_version = Some(version);
        Ok(())
    }

    async fn submit_in(
        &mut self,
        conn: &mut SqliteConnection,
        lines: &[(u64, String)],
    ) -> Result<Vec<LineResult>> {
        self.refresh(conn).await?;
        let device = self.store.device().to_owned();
        let parsed: Vec<(u64, &str, std::result::Result<Envelope, Refusal>)> = lines
            .iter()
            .map(|(n, raw)| (*n, raw.as_str(), parse(raw)))
            .collect();
        let ids: Vec<&str> = parsed
            .iter()
            .filter_map(|(_, _, p)| p.as_ref().ok().map(|e| e.id.as_str()))
            .collect();
        let existing = existing_digests(conn, &ids).await?;
        let codes: Vec<&str> = parsed
            .iter()
            .filter_map(|(_, _, p)| p.as_ref().ok().and_then(|e| e.project.as_deref()))
            .filter(|c| !self.projects.contains_key(*c))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for project in load_projects(conn, &codes).await? {
            self.projects.insert(project.code.clone(), project);
        }

        let kept = if self.reevaluate {
            HashMap::new()
        } else {
            crate::rejects::open_by_digest(conn, lines).await?
        };
        let mut audit = AuditWriter::load(conn, &device).await?;
        let at = now();
        let mut p = Pending::default();
        let mut results = Vec::with_capacity(lines.len());
        for (line, raw, parsed) in parsed {
            let refuse = |event_id: Option<String>, refusal: Refusal| LineResult {
                line,
                outcome: LineOutcome::Refused { event_id, refusal },
            };
            if let Some((reject, reason)) = kept.get(&sm3_hex(raw)) {
                let refusal = Refusal::AlreadyRefused {
                    reject: *reject,
                    reason: reason.clone(),
                };
                results.push(refuse(peek_id(raw), refusal));
                continue;
            }
            let env = match parsed {
                Ok(env) => env,
                Err(refusal) => {
                    let r = refuse(peek_id(raw), refusal);
                    p.rejects.push((r.clone(), raw.to_owned()));
                    results.push(r);
                    continue;
                }
            };
            let digest = sm3_hex(&env.canonical);
            if let Some(seen) = existing.get(&env.id).or(p.accepted_ids.get(&env.id)) {
                let r = if *seen == digest {
                    LineResult {
                        line,
                        outcome: LineOutcome::Duplicate { event_id: env.id },
                    }
                } else {
                    let r = refuse(Some(env.id.clone()), Refusal::IdConflict(env.id));
                    p.rejects.push((r.clone(), raw.to_owned()));
                    r
                };
                results.push(r);
                continue;
            }
            let known = self.known(conn, &env, &p).await?;
            let ctx = Context {
                center: &self.center,
                staff: &self.staff,
            };
            let decision = decide(&env, &known, &ctx);
            let moved_on = matches!(&decision, Ok(d) if matches!(d.change, Change::Project { .. }));
            if let (Some(project), false) = (known.project, moved_on) {
                // Refused, or not a project event: the project goes back as it was.
                self.projects.insert(project.code.clone(), project);
            }
            let decision = match decision {
                Ok(d) => d,
                Err(refusal) => {
                    let r = refuse(Some(env.id.clone()), refusal);
                    p.rejects.push((r.clone(), raw.to_owned()));
                    results.push(r);
                    continue;
                }
            };

            let seq = audit.next_seq();
            let pushes: Vec<PushRow> = decision
                .pushes
                .iter()
                .map(|d| PushRow {
                    id: d.key(&env.id, &env.at),
                    event_id: env.id.clone(),
                    project: env.project.clone(),
                    rule: d.rule,
                    clause: d.clause,
                    role: d.recipient.role.as_str(),
                    recipient_id: d.recipient.id.clone(),
                    recipient_name: d.recipient.name.clone(),
                    channel: d.channel.as_str(),
                    address: d.address.clone(),
                    text: d.text.clone(),
                    secret: d.secret.map(|s| s.as_str()),
                    origin_seq: seq,
                })
                .collect();
            let digests: Vec<String> = pushes.iter().map(PushRow::digest).collect();
            audit.append(&at, "event.accepted", &env.id, event_body(&digest, digests));
            results.push(LineResult {
                line,
                outcome: LineOutcome::Accepted {
                    event_id: env.id.clone(),
                    pushes: pushes.len(),
                },
            });
            p.pushes.extend(pushes);
            p.accepted_ids.insert(env.id.clone(), digest.clone());
            self.apply(decision.change, &env, &mut p);
            p.events.push(EventRow {
                id: env.id,
                kind: env.kind,
                at: env.at.to_rfc3339(),
                project: env.project,
                body: env.canonical,
                digest,
                origin_seq: seq,
            });
        }
        self.flush(conn, &mut p, &mut audit, &at).await?;
        Ok(results)
    }

    /// What the event refers to, as of this point in the batch. The project
    /// is taken out of the cache (not cloned); the decision puts it back.
    async fn known(
        &mut self,
        conn: &mut SqliteConnection,
        env: &Envelope,
        p: &Pending,
    ) -> Result<Known> {
        let mut known = Known::default();
        if let Some(code) = &env.project {
            known.project = self.projects.remove(code);
            known.complaint_project_known = known.project.is_some();
        }
        if let Some(username) = member_username(&env.body) {
            known.member = match p.members.get(username) {
                Some(m) => Some(m.clone()),
                None => load_json(
                    conn,
                    "SELECT party, status FROM members WHERE username = ?",
                    username,
                )
                .await?
                .map(
                    |(party, status): (String, String)| -> Result<MemberRecord> {
                        Ok(MemberRecord {
                            party: serde_json::from_str(&party)?,
                            status: serde_json::from_value(status.into())?,
                        })
                    },
                )
                .transpose()?,
            };
        }
        if let Some(id) = complaint_id(&env.body) {
            known.complaint = match p.complaints.get(id) {
                Some((c, _)) => Some(c.clone()),
                None => {
                    let row: Option<(String,)> =
                        sqlx::query_as("SELECT record FROM complaints WHERE id = ?")
                            .bind(id)
                            .fetch_optional(&mut *conn)
                            .await?;
                    row.map(|(r,)| serde_json::from_str(&r)).transpose()?
                }
            };
        }
        Ok(known)
    }

    fn apply(&mut self, change: Change, env: &Envelope, p: &mut Pending) {
        match change {
            Change::Project {
                project,
                added,
                registered,
            } => {
                let first = (project.parties.len() - added.len()) as i64;
                for (i, party) in added.into_iter().enumerate() {
                    p.parties
                        .push((project.code.clone(), party, first + i as i64));
                }
                if registered {
                    p.registered_at
                        .insert(project.code.clone(), env.at.to_rfc3339());
                }
                p.dirty.insert(project.code.clone());
                self.projects.insert(project.code.clone(), project);
            }
            Change::Member(m) => {
                let username = m.party.username.clone().unwrap_or_default();
                p.members.insert(username, m);
            }
            Change::Complaint(c) => {
                let id = c.complaint.id.clone();
                let lodged_at = p
                    .complaints
                    .get(&id)
                    .map(|(_, at)| at.clone())
                    .unwrap_or_else(|| env.at.to_rfc3339());
                p.complaints.insert(id, (c, lodged_at));
            }
            Change::Survey => p.surveys.push(env.clone()),
        }
    }

    async fn flush(
        &self,
        conn: &mut SqliteConnection,
        p: &mut Pending,
        audit: &mut AuditWriter,
        at: &str,
    ) -> Result<()> {
        let device = self.store.device();
        insert_events(conn, &p.events, &self.source, device, at).await?;

        let projects: Vec<(&Project, String)> = p
            .dirty
            .iter()
            .map(|code| {
                let project = &self.projects[code];
                let progress =
                    serde_json::to_string(&project.progress).expect("progress serialises");
                (project, progress)
            })
            .collect();
        insert_rows(
            conn,
            "INSERT INTO projects (code, name, stage, progress, registered_at, updated_at) ",
            " ON CONFLICT (code) DO UPDATE SET stage = excluded.stage, progress = excluded.progress, \
             updated_at = excluded.updated_at",
            &projects,
            |mut b, (project, progress)| {
                b.push_bind(project.code.as_str())
                    .push_bind(project.name.as_str())
                    .push_bind(project.progress.current.map(|(s, _)| s.as_str()))
                    .push_bind(progress.as_str())
                    .push_bind(p.registered_at.get(&project.code).cloned().unwrap_or_default())
                    .push_bind(at.to_owned());
            },
        )
        .await?;
        insert_rows(
            conn,
            "INSERT INTO parties (project, role, id, name, phone, email, position) ",
            "",
            &p.parties,
            |mut b, (code, pp, position)| {
                b.push_bind(code.as_str())
                    .push_bind(pp.role.as_str())
                    .push_bind(pp.party.id.as_str())
                    .push_bind(pp.party.name.as_str())
                    .push_bind(pp.party.phone.as_deref())
                    .push_bind(pp.party.email.as_deref())
                    .push_bind(*position);
            },
        )
        .await?;
        insert_pushes(conn, &p.pushes, device, at).await?;

        for (username, m) in &p.members {
            sqlx::query(
                "INSERT INTO members (username, party, status, updated_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (username) DO UPDATE SET party = excluded.party, status = excluded.status, \
                 updated_at = excluded.updated_at",
            )
            .bind(username)
            .bind(serde_json::to_string(&m.party)?)
            .bind(serde_json::to_value(m.status)?.as_str().unwrap_or_default().to_owned())
            .bind(at)
            .execute(&mut *conn)
            .await?;
        }
        for (id, (c, lodged_at)) in &p.complaints {
            sqlx::query(
                "INSERT INTO complaints (id, project, record, lodged_at, resolved_at) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record, resolved_at = excluded.resolved_at",
            )
            .bind(id)
            .bind(c.project.as_deref())
            .bind(serde_json::to_string(c)?)
            .bind(lodged_at)
            .bind(c.result.as_ref().map(|_| at))
            .execute(&mut *conn)
            .await?;
        }
        for env in &p.surveys {
            if let EventBody::SurveyAnswered {
                respondent,
                scores,
                remarks,
            } = &env.body
            {
                sqlx::query(
                    "INSERT INTO surveys (event_id, respondent, timeliness, completeness, accuracy, access, \
                     courtesy, complaint_handling, remarks, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(&env.id)
                .bind(serde_json::to_string(respondent)?)
                .bind(scores.timeliness)
                .bind(scores.completeness)
                .bind(scores.accuracy)
                .bind(scores.access)
                .bind(scores.courtesy)
                .bind(scores.complaint_handling)
                .bind(remarks.as_deref())
                .bind(env.at.to_rfc3339())
                .execute(&mut *conn)
                .await?;
            }
        }
        audit.flush(conn).await?;
        crate::rejects::keep(conn, &self.source, &p.rejects, at).await?;
        crate::rejects::resolve(conn, &p.accepted_ids, at).await?;
        Ok(())
    }
}

async fn load_json(
    conn: &mut SqliteConnection,
    sql: &'static str,
    key: &str,
) -> Result<Option<(String, String)>> {
    Ok(sqlx::query_as(sql)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Digests of the events among `ids` that are already stored.
async fn existing_digests(
    conn: &mut SqliteConnection,
    ids: &[&str],
) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut qb: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new("SELECT id, digest FROM events WHERE id IN ");
        qb.push_tuples(chunk, |mut b, id| {
            b.push_bind(*id);
        });
        let rows: Vec<(String, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Load projects with their parties.
pub(crate) async fn load_projects(
    conn: &mut SqliteConnection,
    codes: &[&str],
) -> Result<Vec<Project>> {
    let mut out: Vec<Project> = Vec::new();
    for chunk in codes.chunks(500) {
        let mut qb: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new("SELECT code, name, progress FROM projects WHERE code IN ");
        qb.push_tuples(chunk, |mut b, c| {
            b.push_bind(*c);
        });
        let rows: Vec<(String, String, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
        let mut found: HashMap<String, Project> = HashMap::new();
        for (code, name, progress) in rows {
            let progress: Progress = serde_json::from_str(&progress)?;
            found.insert(
                code.clone(),
                Project {
                    code,
                    name,
                    parties: Vec::new(),
                    progress,
                },
            );
        }
        if found.is_empty() {
            continue;
        }
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "SELECT project, role, id, name, phone, email FROM parties WHERE project IN ",
        );
        qb.push_tuples(found.keys(), |mut b, c| {
            b.push_bind(c.as_str());
        });
        qb.push(" ORDER BY project, position");
        type PartyRow = (
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let parties: Vec<PartyRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
        for (project, role, id, name, phone, email) in parties {
            let role = Role::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("parties.role `{role}`")))?;
            if let Some(p) = found.get_mut(&project) {
                p.parties.push(ProjectParty {
                    role,
                    party: Party {
                        id,
                        name,
                        phone,
                        email,
                        username: None,
                    },
                });
            }
        }
        out.extend(found.into_values());
    }
    Ok(out)
}

/// Active staff of the roles the standard pushes to, as the engine needs them.
pub(crate) fn staff_member(username: String, name: String) -> StaffMember {
    StaffMember { username, name }
}
