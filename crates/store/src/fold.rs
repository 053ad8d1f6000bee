//! The projections as a fold of the events in the order: the events the
//! sync server placed, by their place in its global order, then this
//! desktop's not yet placed, by `no`. Every event is decided again through
//! the core (`engine::decide`, as intake decided it); what that leaves —
//! projects and their parties, members, complaints, surveys — is what the
//! tables hold. An event the fold refuses is stale: a conflict.
//!
//! Intake decides a new event on the projections as they stand, which is
//! this fold with the event at its end. Applying other devices' records
//! folds them in the same way when they come after everything here, and
//! folds everything again when one lands before an event of this desktop's
//! (`sync::apply`); `verify` folds everything and compares.

use crate::rows::{build_rows, run, Built};
use crate::surveys::SurveyRow;
use crate::{now, Result, StoreError};
use ggzy_core::engine::{complaint_id, member_username, ComplaintRecord, MemberRecord};
use ggzy_core::event::Party;
use ggzy_core::event::{parse, Envelope, EventBody};
use ggzy_core::fold::{replaying, Changed, Fold};
use ggzy_core::reach::Reach;
use ggzy_core::role::Role;
use ggzy_core::workflow::{Progress, Project, ProjectParty};
use ggzy_core::Refusal;
use sqlx::SqliteConnection;
use sqlx::{QueryBuilder, Sqlite};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Every event in the order, with its origin.
pub(crate) const IN_ORDER: &str =
    "SELECT e.id, e.body, e.origin_device, e.origin_seq FROM events e \
     LEFT JOIN placed p ON p.origin_device = e.origin_device AND p.seq = e.origin_seq \
     ORDER BY p.gseq IS NULL, p.gseq, e.no";

/// A `parties` row as written: project, role, id, name, phone, email,
/// prefer, position.
type PartyRow = (
    String,
    &'static str,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<&'static str>,
    i64,
);

/// What the events leave behind.
#[derive(Default)]
pub(crate) struct Derived {
    /// Projects, members and complaints.
    pub(crate) fold: Fold,
    /// Complaint id -> the time its lodging event carries.
    pub(crate) lodged_at: HashMap<String, String>,
    /// Complaint id -> the resolving event's own time.
    pub(crate) resolved_at: HashMap<String, String>,
    /// Survey event id -> its row.
    pub(crate) surveys: BTreeMap<String, SurveyRow>,
    /// Project code -> the time of the event that registered it.
    registered_at: HashMap<String, String>,
    /// What changed since the fold was loaded (all of it, folded from nothing).
    touched: Touched,
}

#[derive(Default)]
struct Touched {
    projects: HashSet<String>,
    members: HashSet<String>,
    complaints: HashSet<String>,
    surveys: HashSet<String>,
}

/// An event the fold refused: stale, in the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stale {
    pub(crate) origin_device: i64,
    pub(crate) origin_seq: i64,
    pub(crate) event_id: String,
    pub(crate) reason: String,
}

impl Derived {
    /// Decide one event on what the fold holds and take in what it changes;
    /// the refusal, if the fold refuses it (nothing changes then).
    pub(crate) fn step(&mut self, env: &Envelope) -> std::result::Result<(), Refusal> {
        match self.fold.step(env, &replaying())?.changed {
            Changed::Project { code, registered } => {
                if registered {
                    self.registered_at.insert(code.clone(), env.at.to_rfc3339());
                }
                self.touched.projects.insert(code);
            }
            Changed::Member(username) => {
                self.touched.members.insert(username);
            }
            Changed::Complaint(id) => {
                self.lodged_at
                    .entry(id.clone())
                    .or_insert_with(|| env.at.to_rfc3339());
                if matches!(env.body, EventBody::ComplaintResolved { .. }) {
                    self.resolved_at
                        .entry(id.clone())
                        .or_insert_with(|| env.at.to_rfc3339());
                }
                self.touched.complaints.insert(id);
            }
            Changed::Survey => {
                if let Some(row) = SurveyRow::of(env) {
                    self.touched.surveys.insert(env.id.clone());
                    self.surveys.insert(env.id.clone(), row);
                }
            }
            Changed::PushesOnly => {}
        }
        Ok(())
    }

    /// Read what `envs` refer to as the tables hold it, to fold them on.
    pub(crate) async fn load(conn: &mut SqliteConnection, envs: &[&Envelope]) -> Result<Self> {
        let mut d = Derived::default();
        let codes: Vec<&str> = envs
            .iter()
            .filter_map(|e| e.project.as_deref())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for p in load_projects(conn, &codes).await? {
            d.fold.projects.insert(p.code.clone(), p);
        }
        for username in envs.iter().filter_map(|e| member_username(&e.body)) {
            let row: Option<(String, String)> =
                sqlx::query_as("SELECT party, status FROM members WHERE username = ?")
                    .bind(username)
                    .fetch_optional(&mut *conn)
                    .await?;
            if let Some((party, status)) = row {
                let m = MemberRecord {
                    party: serde_json::from_str(&party)?,
                    status: serde_json::from_value(status.into())?,
                };
                d.fold.members.insert(username.to_owned(), m);
            }
        }
        for id in envs.iter().filter_map(|e| complaint_id(&e.body)) {
            let row: Option<(String, String)> =
                sqlx::query_as("SELECT record, lodged_at FROM complaints WHERE id = ?")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
            if let Some((record, lodged_at)) = row {
                d.fold
                    .complaints
                    .insert(id.to_owned(), serde_json::from_str(&record)?);
                d.lodged_at.insert(id.to_owned(), lodged_at);
            }
        }
        Ok(d)
    }

    /// Write what changed since `load`.
    pub(crate) async fn write_touched(&self, conn: &mut SqliteConnection) -> Result<()> {
        let t = &self.touched;
        self.write(conn, &t.projects, &t.members, &t.complaints, &t.surveys)
            .await
    }

    /// Make the tables hold exactly this fold (folded from nothing).
    pub(crate) async fn write_all(&self, conn: &mut SqliteConnection) -> Result<()> {
        let keys = |k: Vec<&String>| serde_json::to_string(&k).expect("strings");
        sqlx::query(
            "DELETE FROM parties; DELETE FROM surveys; \
             DELETE FROM projects WHERE code NOT IN (SELECT value FROM json_each(?1)); \
             DELETE FROM members WHERE username NOT IN (SELECT value FROM json_each(?2)); \
             DELETE FROM complaints WHERE id NOT IN (SELECT value FROM json_each(?3))",
        )
        .bind(keys(self.fold.projects.keys().collect()))
        .bind(keys(self.fold.members.keys().collect()))
        .bind(keys(self.fold.complaints.keys().collect()))
        .execute(&mut *conn)
        .await?;
        let all = |k: Vec<&String>| k.into_iter().cloned().collect::<HashSet<_>>();
        self.write(
            conn,
            &all(self.fold.projects.keys().collect()),
            &all(self.fold.members.keys().collect()),
            &all(self.fold.complaints.keys().collect()),
            &all(self.surveys.keys().collect()),
        )
        .await
    }

    async fn write(
        &self,
        conn: &mut SqliteConnection,
        projects: &HashSet<String>,
        members: &HashSet<String>,
        complaints: &HashSet<String>,
        surveys: &HashSet<String>,
    ) -> Result<()> {
        let at = now();
        // Projects and their parties in multi-row statements: a fresh
        // desktop folds a year's projects in a few pages.
        let mut b: Vec<Built> = Vec::new();
        let rows: Vec<(String, &Project)> = projects
            .iter()
            .map(|c| (c.clone(), &self.fold.projects[c]))
            .collect();
        build_rows(
            &mut b,
            "INSERT INTO projects (code, name, stage, progress, registered_at, updated_at, filing_pending, \
             materials_pending, refund_pending) ",
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, stage = excluded.stage, \
             progress = excluded.progress, updated_at = excluded.updated_at, \
             filing_pending = excluded.filing_pending, materials_pending = excluded.materials_pending, \
             refund_pending = excluded.refund_pending",
            rows.iter()
                .map(|(code, p)| {
                    (
                        code.clone(),
                        p.name.clone(),
                        p.progress.current.map(|(s, _)| s.as_str()),
                        serde_json::to_string(&p.progress).expect("progress serialises"),
                        self.registered_at.get(code).unwrap_or(&at).clone(),
                        at.clone(),
                        (p.filing_pending(), p.materials_pending(), p.refund_pending()),
                    )
                })
                .collect(),
            |mut q, (code, name, stage, progress, registered_at, updated_at, (filing, materials, refund))| {
                q.push_bind(code)
                    .push_bind(name)
                    .push_bind(stage)
                    .push_bind(progress)
                    .push_bind(registered_at)
                    .push_bind(updated_at)
                    .push_bind(filing)
                    .push_bind(materials)
                    .push_bind(refund);
            },
        );
        let parties: Vec<PartyRow> = rows
            .iter()
            .flat_map(|(code, p)| {
                p.parties.iter().enumerate().map(move |(position, pp)| {
                    (
                        code.clone(),
                        pp.role.as_str(),
                        pp.party.id.clone(),
                        pp.party.name.clone(),
                        pp.party.phone.clone(),
                        pp.party.email.clone(),
                        pp.party.prefer.map(|r| r.as_str()),
                        position as i64,
                    )
                })
            })
            .collect();
        build_rows(
            &mut b,
            "INSERT INTO parties (project, role, id, name, phone, email, prefer, position) ",
            "",
            parties,
            |mut q, (code, role, id, name, phone, email, prefer, position)| {
                q.push_bind(code)
                    .push_bind(role)
                    .push_bind(id)
                    .push_bind(name)
                    .push_bind(phone)
                    .push_bind(email)
                    .push_bind(prefer)
                    .push_bind(position);
            },
        );
        sqlx::query("DELETE FROM parties WHERE project IN (SELECT value FROM json_each(?1))")
            .bind(serde_json::to_string(&projects).expect("strings"))
            .execute(&mut *conn)
            .await?;
        run(conn, b).await?;
        for username in members {
            upsert_member(conn, username, &self.fold.members[username], &at).await?;
        }
        for id in complaints {
            let lodged_at = self.lodged_at.get(id).unwrap_or(&at);
            let resolved_at = self.resolved_at.get(id).map(String::as_str);
            upsert_complaint(conn, &self.fold.complaints[id], lodged_at, resolved_at).await?;
        }
        for id in surveys {
            self.surveys[id].write(conn).await?;
        }
        Ok(())
    }
}

/// A member's projection row as a decision leaves it (the one-time
/// password hash the dispatcher issues is kept).
pub(crate) async fn upsert_member(
    conn: &mut SqliteConnection,
    username: &str,
    m: &MemberRecord,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO members (username, party, status, updated_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (username) DO UPDATE SET party = excluded.party, status = excluded.status, \
         updated_at = excluded.updated_at",
    )
    .bind(username)
    .bind(serde_json::to_string(&m.party)?)
    .bind(
        serde_json::to_value(m.status)?
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A complaint's projection row as a decision leaves it: resolved at `at`
/// once it has a result (the first resolution's time is kept).
/// Write a complaint as it stands. Its times are its events' own: when it
/// was lodged, and when the resolving event says it was resolved (never
/// when this desktop received either).
pub(crate) async fn upsert_complaint(
    conn: &mut SqliteConnection,
    c: &ComplaintRecord,
    lodged_at: &str,
    resolved_at: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO complaints (id, project, record, lodged_at, resolved_at) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET project = excluded.project, record = excluded.record, \
         resolved_at = coalesce(complaints.resolved_at, excluded.resolved_at)",
    )
    .bind(&c.complaint.id)
    .bind(c.project.as_deref())
    .bind(serde_json::to_string(c)?)
    .bind(lodged_at)
    .bind(resolved_at.filter(|_| c.result.is_some()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Fold every event in the order: what they leave, and the stale ones.
pub(crate) async fn fold_all(conn: &mut SqliteConnection) -> Result<(Derived, Vec<Stale>)> {
    use futures_util::TryStreamExt;
    let mut d = Derived::default();
    let mut stale = Vec::new();
    let mut rows = sqlx::query_as::<_, (String, String, i64, i64)>(IN_ORDER).fetch(&mut *conn);
    while let Some((id, body, origin_device, origin_seq)) = rows.try_next().await? {
        let env = parse(&body).map_err(|r| {
            StoreError::Corrupt(format!(
                "事件 `{id}` 的内容无法读取（{r}）：请运行 ggzy audit verify"
            ))
        })?;
        if let Err(r) = d.step(&env) {
            stale.push(Stale {
                origin_device,
                origin_seq,
                event_id: id,
                reason: r.to_string(),
            });
        }
    }
    Ok((d, stale))
}

/// A `parties` row: project, role, id, name, phone, email, prefer.
pub(crate) type PartyRead = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

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
        let mut found: HashMap<String, (Project, Vec<ProjectParty>)> = HashMap::new();
        for (code, name, progress) in rows {
            let progress: Progress = serde_json::from_str(&progress)?;
            let project = Project {
                code: code.clone(),
                name,
                parties: Arc::default(),
                progress,
            };
            found.insert(code, (project, Vec::new()));
        }
        if found.is_empty() {
            continue;
        }
        let mut qb: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "SELECT project, role, id, name, phone, email, prefer FROM parties WHERE project IN ",
        );
        qb.push_tuples(found.keys(), |mut b, c| {
            b.push_bind(c.as_str());
        });
        qb.push(" ORDER BY project, position");
        let parties: Vec<PartyRead> = qb.build_query_as().fetch_all(&mut *conn).await?;
        for (project, role, id, name, phone, email, prefer) in parties {
            let role = Role::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("parties.role `{role}`")))?;
            let prefer = match prefer {
                Some(p) => Some(
                    Reach::parse(&p)
                        .ok_or_else(|| StoreError::Corrupt(format!("parties.prefer `{p}`")))?,
                ),
                None => None,
            };
            if let Some((_, list)) = found.get_mut(&project) {
                list.push(ProjectParty {
                    role,
                    party: Party {
                        id,
                        name,
                        phone,
                        email,
                        username: None,
                        prefer,
                    },
                });
            }
        }
        out.extend(found.into_values().map(|(mut p, list)| {
            p.parties = Arc::new(list);
            p
        }));
    }
    Ok(out)
}
