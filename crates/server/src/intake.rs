//! The e-trading system's events, decided by the server itself
//! (`POST /api/v1/intake`), whether or not any desktop is online.
//!
//! The server runs the same core on the global order. Under the
//! `global_seq` row's lock (which orders uploads too), it first folds every
//! record placed since it last looked ([`Folding::catch_up`]: each device's
//! events decided again in the order the server gave them, the stale ones
//! kept in `fold_stale`), then decides the body's events at the end of that
//! order, and appends the accepted ones to its own series
//! (`core::sync::SERVER_DEVICE`) with their pushes: every desktop downloads
//! them like another device's records. One transaction: a body is taken
//! whole or, on a failure, not at all; refused lines are kept as rejects.

use crate::dispatch::Outbox;
use crate::series::{Pending, Series};
use crate::tokens;
use crate::{Refused, State};
use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use ggzy_core::audit::{accepted_content, sm3, Hash};
use ggzy_core::engine::{
    complaint_id, member_username, ComplaintRecord, Context, Directory, MemberRecord,
};
use ggzy_core::event::{decode_line, may_import, parse, peek_id, Envelope};
use ggzy_core::fold::{replaying, Changed, Fold};
use ggzy_core::reach::ContactRules;
use ggzy_core::render::Center;
use ggzy_core::sync::{CarriedPush, IntakeAnswer, RefusedLine};
use ggzy_core::workflow::{Progress, Project, ProjectParty};
use ggzy_core::Refusal;
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Records folded at a time when catching up.
const CATCH_UP_PAGE: i64 = 5_000;

/// A line of the body: its number, its text, and its event or why not.
struct Line {
    no: u64,
    text: String,
    event: Result<Envelope, Refusal>,
}

pub async fn intake(
    Shared(s): Shared<State>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<IntakeAnswer>, Refused> {
    let token = tokens::intake(&s.pool, &headers).await?;
    let body = body.map_err(|e| {
        Refused::new(
            e.status(),
            "bad_body",
            format!("无法读取请求内容：{}", e.body_text()),
        )
    })?;
    // Reading and checking lines is pure work: off the async threads.
    let lines = tokio::task::spawn_blocking(move || read(&body))
        .await
        .map_err(|_| Refused::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "内部错误"))?;
    if lines.is_empty() {
        return Err(Refused::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_body",
            "请求内容中没有任何事件：请每行发送一条接入 JSON",
        ));
    }
    let answer = decide(&s.pool, s.center.clone(), token, lines).await?;
    tracing::info!(
        token,
        accepted = answer.accepted,
        duplicates = answer.duplicates,
        refused = answer.refused.len(),
        "intake"
    );
    Ok(Json(answer))
}

/// The body's lines that hold anything, read as the CLI reads a file
/// (a BOM before the first line is dropped; blank lines are skipped but
/// counted).
fn read(body: &[u8]) -> Vec<Line> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    body.split(|b| *b == b'\n')
        .enumerate()
        .filter_map(|(i, bytes)| {
            let text = String::from_utf8_lossy(bytes).trim().to_owned();
            let event = match decode_line(bytes) {
                Err(refusal) => Err(refusal),
                Ok(_) if text.is_empty() => return None,
                Ok(_) => parse(&text).and_then(|env| may_import(env.kind).map(|()| env)),
            };
            Some(Line {
                no: i as u64 + 1,
                text,
                event,
            })
        })
        .collect()
}

/// Records folded in one transaction between intakes at most: the order's
/// lock is held for as long, and uploads wait.
const FOLD_STEP: i64 = 20_000;

/// Fold what was placed since the server last looked (at most `FOLD_STEP`
/// places), under the order's lock: the server's re-check of every
/// device's events kept current between intakes. How many places it passed.
pub async fn fold_placed(pool: &sqlx::PgPool) -> Result<i64, sqlx::Error> {
    let (at, last): (i64, i64) =
        sqlx::query_as("SELECT (SELECT gseq FROM fold_at), (SELECT last FROM global_seq)")
            .fetch_one(pool)
            .await?;
    if at >= last {
        return Ok(0);
    }
    let mut tx = pool.begin().await?;
    // Every place up to `last` is committed once the lock is held.
    let last: i64 = sqlx::query_scalar("SELECT last FROM global_seq FOR UPDATE")
        .fetch_one(&mut *tx)
        .await?;
    let upto = last.min(at + FOLD_STEP);
    let mut folding = Folding::default();
    folding.catch_up(&mut tx, upto).await?;
    folding.save(&mut tx, upto).await?;
    tx.commit().await?;
    Ok(upto - at)
}

/// Keep the fold current until `stop` resolves (every instance runs it;
/// the lock lets one fold at a time).
pub async fn keep_folded(pool: sqlx::PgPool, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        let wait = match fold_placed(&pool).await {
            Ok(0) => std::time::Duration::from_secs(1),
            Ok(_) => std::time::Duration::ZERO,
            Err(e) => {
                tracing::error!(error = %e, "fold: database");
                std::time::Duration::from_secs(5)
            }
        };
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Lines decided at a time: each slice is decided on a blocking thread
/// while the one before is written.
const SLICE: usize = 1_000;

async fn decide(
    pool: &sqlx::PgPool,
    center: Arc<Center>,
    token: i64,
    lines: Vec<Line>,
) -> Result<IntakeAnswer, Refused> {
    let mut tx = pool.begin().await?;
    let series = Series::open(&mut tx).await?;
    let mut folding = Folding::default();
    folding.catch_up(&mut tx, series.last()).await?;
    let envs: Vec<&Envelope> = lines.iter().filter_map(|l| l.event.as_ref().ok()).collect();
    folding.load(&mut tx, &envs).await?;
    folding
        .seen(&mut tx, envs.iter().map(|e| e.id.as_str()))
        .await?;
    let mut d = Deciding {
        folding,
        series,
        center,
        staff: directory(&mut tx).await?,
        rules: ContactRules::default(),
        at: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
        answer: IntakeAnswer::default(),
        rejects: Vec::new(),
    };
    let lines = Arc::new(lines);
    let mut unwritten: Option<Rows> = None;
    for from in (0..lines.len()).step_by(SLICE) {
        let to = (from + SLICE).min(lines.len());
        let shared = lines.clone();
        let deciding = tokio::task::spawn_blocking(move || {
            let rows = d.slice(&shared[from..to], from);
            (d, rows)
        });
        let writing = async {
            match unwritten.take() {
                Some(rows) => rows.write(&mut tx).await,
                None => Ok(()),
            }
        };
        let (written, decided) = tokio::join!(writing, deciding);
        written?;
        let (back, rows) = decided.map_err(|_| {
            Refused::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "内部错误：请重试",
            )
        })?;
        d = back;
        unwritten = Some(rows);
    }
    if let Some(rows) = unwritten {
        rows.write(&mut tx).await?;
    }
    let Deciding {
        folding,
        series,
        mut answer,
        rejects,
        ..
    } = d;
    let last = series.close(&mut tx).await?;
    folding.save(&mut tx, last).await?;
    if !rejects.is_empty() {
        let line = |i: usize| &lines[i];
        sqlx::query(
            "INSERT INTO intake_rejects (token, line, event_id, code, message, raw) \
             SELECT $1, l, e, c, m, r FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[]) \
             AS t(l, e, c, m, r)",
        )
        .bind(token)
        .bind(rejects.iter().map(|r| line(r.0).no as i64).collect::<Vec<_>>())
        .bind(rejects.iter().map(|r| r.1.as_deref()).collect::<Vec<_>>())
        .bind(rejects.iter().map(|r| r.2.code()).collect::<Vec<_>>())
        .bind(rejects.iter().map(|r| message(&r.2)).collect::<Vec<_>>())
        .bind(rejects.iter().map(|r| line(r.0).text.as_str()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    answer.refused = rejects
        .into_iter()
        .map(|(i, event_id, refusal)| RefusedLine {
            line: lines[i].no,
            event_id,
            code: refusal.code().to_owned(),
            message: message(&refusal),
        })
        .collect();
    Ok(answer)
}

/// What deciding a body keeps from slice to slice (moved to a blocking
/// thread for each slice, and back).
struct Deciding {
    folding: Folding,
    series: Series,
    center: Arc<Center>,
    staff: Directory,
    rules: ContactRules,
    /// When the server accepts the body's events.
    at: String,
    answer: IntakeAnswer,
    /// Refused lines: their index among the body's lines, event id, refusal.
    rejects: Vec<(usize, Option<String>, Refusal)>,
}

/// A slice's rows, decided and not yet written.
struct Rows {
    records: Pending,
    outbox: Outbox,
}

impl Rows {
    async fn write(self, tx: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
        self.records.write(tx).await?;
        self.outbox.write(tx).await
    }
}

impl Deciding {
    /// Decide `lines` (the body's from index `from` on) at the end of the
    /// order; the rows they make.
    fn slice(&mut self, lines: &[Line], from: usize) -> Rows {
        let Deciding {
            folding,
            series,
            center,
            staff,
            rules,
            at,
            answer,
            rejects,
        } = self;
        let ctx = Context {
            center,
            staff,
            rules,
        };
        let mut outbox = Outbox::default();
        for (i, line) in lines.iter().enumerate() {
            let env = match &line.event {
                Ok(env) => env,
                Err(refusal) => {
                    rejects.push((from + i, peek_id(&line.text), refusal.clone()));
                    continue;
                }
            };
            let digest = sm3(&env.canonical);
            match folding.ids.get(&env.id) {
                Some(seen) if *seen == digest => {
                    answer.duplicates += 1;
                    continue;
                }
                Some(_) => {
                    let refusal = Refusal::IdConflict(env.id.clone());
                    rejects.push((from + i, Some(env.id.clone()), refusal));
                    continue;
                }
                None => {}
            }
            let applied = match folding.step(env, &ctx) {
                Ok(applied) => applied,
                Err(refusal) => {
                    rejects.push((from + i, Some(env.id.clone()), refusal));
                    continue;
                }
            };
            let pushes: Vec<CarriedPush> = applied
                .decision
                .pushes
                .into_iter()
                .map(|d| CarriedPush::drafted(d, &env.id, &env.at))
                .collect();
            let digests = pushes.iter().map(|p| p.digest(&env.id)).collect();
            let content =
                accepted_content(at, &env.id, &digest, digests, &applied.decision.silenced);
            answer.accepted += 1;
            answer.pushes += pushes.len() as u64;
            outbox.add(series.next(), &pushes);
            let gseq = series.push(content, Some(env.canonical.clone()), pushes);
            folding.ids.insert(env.id.clone(), digest);
            folding.events.push((env.id.clone(), digest, gseq));
        }
        Rows {
            records: series.take(),
            outbox,
        }
    }
}

/// What a refused line is told: the refusal, said for the server where a
/// desktop's remedy does not apply.
fn message(refusal: &Refusal) -> String {
    match refusal {
        Refusal::NoRecipient { clause, role } => format!(
            "{clause} 须推送给{role}，但服务器还不知道任何在岗的该角色用户：服务器按各台电脑同步上来的用户发送，请在一台电脑上添加该角色的用户、同步后重试"
        ),
        other => other.to_string(),
    }
}

/// Active staff of the two roles pushed to, as the desktops' user records
/// tell.
async fn directory(tx: &mut PgConnection) -> Result<Directory, sqlx::Error> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT username, name, role FROM staff WHERE active ORDER BY username")
            .fetch_all(&mut *tx)
            .await?;
    Ok(Directory::of(rows))
}

/// The fold as far as this request reads and changes it.
#[derive(Default)]
struct Folding {
    fold: Fold,
    loaded: Keys,
    touched: Keys,
    /// Event ids read or folded, with their events' digests.
    ids: HashMap<String, Hash>,
    /// Event ids asked of `fold_events` already.
    asked: HashSet<String>,
    /// New `fold_events` rows: id, digest, place.
    events: Vec<(String, Hash, i64)>,
    /// New `fold_stale` rows: place, event id, kind, reason.
    stale: Vec<(i64, String, &'static str, String)>,
    /// Staff as user records left them: username, name, role, active.
    staff: Vec<(String, String, String, bool)>,
}

#[derive(Default)]
struct Keys {
    projects: HashSet<String>,
    members: HashSet<String>,
    complaints: HashSet<String>,
}

impl Folding {
    /// Fold every record placed after the fold's place up to `last`.
    async fn catch_up(&mut self, tx: &mut PgConnection, last: i64) -> Result<(), sqlx::Error> {
        let mut at: i64 = sqlx::query_scalar("SELECT gseq FROM fold_at")
            .fetch_one(&mut *tx)
            .await?;
        let ctx = replaying();
        while at < last {
            let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
                "SELECT gseq, content, body FROM records WHERE gseq > $1 AND gseq <= $2 \
                 AND (body IS NOT NULL OR content LIKE '%\"kind\":\"user.%') ORDER BY gseq LIMIT $3",
            )
            .bind(at)
            .bind(last)
            .bind(CATCH_UP_PAGE)
            .fetch_all(&mut *tx)
            .await?;
            at = match rows.last() {
                Some(r) if rows.len() as i64 == CATCH_UP_PAGE => r.0,
                _ => last,
            };
            let mut events = Vec::with_capacity(rows.len());
            for (gseq, content, body) in rows {
                match body {
                    // Every line was parsed at upload (`Record::holds`, the
                    // desktop's own intake); one that no longer parses is
                    // kept as stale rather than lost.
                    Some(body) => events.push((gseq, parse(&body))),
                    None => self.user(&content),
                }
            }
            let envs: Vec<&Envelope> = events.iter().filter_map(|e| e.1.as_ref().ok()).collect();
            self.load(tx, &envs).await?;
            self.seen(tx, envs.iter().map(|e| e.id.as_str())).await?;
            for (gseq, env) in &events {
                let env = match env {
                    Ok(env) => env,
                    Err(refusal) => {
                        self.stale
                            .push((*gseq, String::new(), "stale", refusal.to_string()));
                        continue;
                    }
                };
                let digest = sm3(&env.canonical);
                if self.ids.contains_key(&env.id) {
                    let reason = format!("事件编号 `{}` 已被先到的事件使用", env.id);
                    self.stale
                        .push((*gseq, env.id.clone(), "duplicate", reason));
                    continue;
                }
                self.ids.insert(env.id.clone(), digest);
                self.events.push((env.id.clone(), digest, *gseq));
                if let Err(refusal) = self.step(env, &ctx) {
                    self.stale
                        .push((*gseq, env.id.clone(), "stale", refusal.to_string()));
                }
            }
        }
        self.save_staff(tx).await
    }

    /// A user record: the user's state after it (every user record
    /// carries it), for the staff directory.
    fn user(&mut self, content: &str) {
        #[derive(serde::Deserialize)]
        struct UserRecord {
            subject: String,
            state: UserState,
        }
        #[derive(serde::Deserialize)]
        struct UserState {
            name: String,
            role: String,
            active: bool,
        }
        if let Ok(r) = serde_json::from_str::<UserRecord>(content) {
            let s = r.state;
            self.staff.push((r.subject, s.name, s.role, s.active));
        }
    }

    /// Write the staff the records told of (in their order: a later state
    /// wins), for the decisions that follow.
    async fn save_staff(&mut self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        for (username, name, role, active) in self.staff.drain(..) {
            sqlx::query(
                "INSERT INTO staff (username, name, role, active) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (username) DO UPDATE SET name = $2, role = $3, active = $4",
            )
            .bind(username)
            .bind(name)
            .bind(role)
            .bind(active)
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }

    fn step(&mut self, env: &Envelope, ctx: &Context) -> Result<ggzy_core::fold::Applied, Refusal> {
        let applied = self.fold.step(env, ctx)?;
        match &applied.changed {
            Changed::Project { code, .. } => {
                self.touched.projects.insert(code.clone());
            }
            Changed::Member(username) => {
                self.touched.members.insert(username.clone());
            }
            Changed::Complaint(id) => {
                self.touched.complaints.insert(id.clone());
            }
            Changed::Survey | Changed::PushesOnly => {}
        }
        Ok(applied)
    }

    /// Read what `envs` refer to that is not read yet.
    async fn load(&mut self, tx: &mut PgConnection, envs: &[&Envelope]) -> Result<(), sqlx::Error> {
        let fresh = |loaded: &mut HashSet<String>, keys: Vec<&str>| -> Vec<String> {
            keys.into_iter()
                .filter(|k| loaded.insert((*k).to_owned()))
                .map(str::to_owned)
                .collect()
        };
        let codes = fresh(
            &mut self.loaded.projects,
            envs.iter().filter_map(|e| e.project.as_deref()).collect(),
        );
        let usernames = fresh(
            &mut self.loaded.members,
            envs.iter()
                .filter_map(|e| member_username(&e.body))
                .collect(),
        );
        let complaints = fresh(
            &mut self.loaded.complaints,
            envs.iter().filter_map(|e| complaint_id(&e.body)).collect(),
        );
        if !codes.is_empty() {
            let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                "SELECT code, name, parties, progress FROM fold_projects WHERE code = ANY($1)",
            )
            .bind(&codes)
            .fetch_all(&mut *tx)
            .await?;
            for (code, name, parties, progress) in rows {
                let parties: Vec<ProjectParty> = serde_json::from_str(&parties).map_err(decode)?;
                let progress: Progress = serde_json::from_str(&progress).map_err(decode)?;
                let project = Project {
                    code: code.clone(),
                    name,
                    parties: Arc::new(parties),
                    progress,
                };
                self.fold.projects.insert(code, project);
            }
        }
        if !usernames.is_empty() {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT username, record FROM fold_members WHERE username = ANY($1)",
            )
            .bind(&usernames)
            .fetch_all(&mut *tx)
            .await?;
            for (username, record) in rows {
                let m: MemberRecord = serde_json::from_str(&record).map_err(decode)?;
                self.fold.members.insert(username, m);
            }
        }
        if !complaints.is_empty() {
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT id, record FROM fold_complaints WHERE id = ANY($1)")
                    .bind(&complaints)
                    .fetch_all(&mut *tx)
                    .await?;
            for (id, record) in rows {
                let c: ComplaintRecord = serde_json::from_str(&record).map_err(decode)?;
                self.fold.complaints.insert(id, c);
            }
        }
        Ok(())
    }

    /// Read which of `ids` the order holds already, and under what digest.
    async fn seen<'a>(
        &mut self,
        tx: &mut PgConnection,
        ids: impl Iterator<Item = &'a str>,
    ) -> Result<(), sqlx::Error> {
        let ask: Vec<String> = ids
            .filter(|id| self.asked.insert((*id).to_owned()))
            .map(str::to_owned)
            .collect();
        if ask.is_empty() {
            return Ok(());
        }
        let rows: Vec<(String, Vec<u8>)> =
            sqlx::query_as("SELECT id, digest FROM fold_events WHERE id = ANY($1)")
                .bind(&ask)
                .fetch_all(&mut *tx)
                .await?;
        for (id, digest) in rows {
            self.ids.insert(id, digest.try_into().unwrap_or([0xff; 32]));
        }
        Ok(())
    }

    /// Write what changed, and the fold's new place.
    async fn save(&self, tx: &mut PgConnection, at: i64) -> Result<(), sqlx::Error> {
        let t = &self.touched;
        if !t.projects.is_empty() {
            let projects: Vec<&Project> =
                t.projects.iter().map(|c| &self.fold.projects[c]).collect();
            sqlx::query(
                "INSERT INTO fold_projects (code, name, parties, progress) \
                 SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[]) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, parties = excluded.parties, \
                 progress = excluded.progress",
            )
            .bind(projects.iter().map(|p| p.code.as_str()).collect::<Vec<_>>())
            .bind(projects.iter().map(|p| p.name.as_str()).collect::<Vec<_>>())
            .bind(projects.iter().map(|p| json(&*p.parties)).collect::<Vec<_>>())
            .bind(projects.iter().map(|p| json(&p.progress)).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        if !t.members.is_empty() {
            let keys: Vec<&String> = t.members.iter().collect();
            sqlx::query(
                "INSERT INTO fold_members (username, record) SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[]) \
                 ON CONFLICT (username) DO UPDATE SET record = excluded.record",
            )
            .bind(&keys)
            .bind(keys.iter().map(|k| json(&self.fold.members[*k])).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        if !t.complaints.is_empty() {
            let keys: Vec<&String> = t.complaints.iter().collect();
            sqlx::query(
                "INSERT INTO fold_complaints (id, record) SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[]) \
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            )
            .bind(&keys)
            .bind(keys.iter().map(|k| json(&self.fold.complaints[*k])).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        if !self.events.is_empty() {
            sqlx::query(
                "INSERT INTO fold_events (id, digest, gseq) \
                 SELECT * FROM UNNEST($1::TEXT[], $2::BYTEA[], $3::BIGINT[])",
            )
            .bind(self.events.iter().map(|e| e.0.as_str()).collect::<Vec<_>>())
            .bind(self.events.iter().map(|e| e.1.to_vec()).collect::<Vec<_>>())
            .bind(self.events.iter().map(|e| e.2).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        if !self.stale.is_empty() {
            sqlx::query(
                "INSERT INTO fold_stale (gseq, event_id, kind, reason) \
                 SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[])",
            )
            .bind(self.stale.iter().map(|s| s.0).collect::<Vec<_>>())
            .bind(self.stale.iter().map(|s| s.1.as_str()).collect::<Vec<_>>())
            .bind(self.stale.iter().map(|s| s.2).collect::<Vec<_>>())
            .bind(self.stale.iter().map(|s| s.3.as_str()).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE fold_at SET gseq = $1")
            .bind(at)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).expect("plain values serialise")
}

fn decode(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}
