//! The intake's writes and reads of the projections: what a slice decided,
//! written in the open transaction; projects loaded with their parties.

use super::*;

/// A project's projection row.
pub(super) struct ProjectRow {
    pub(super) code: String,
    pub(super) name: String,
    pub(super) stage: Option<&'static str>,
    pub(super) progress: String,
    /// Empty: already registered.
    pub(super) registered_at: String,
    pub(super) filing_pending: bool,
    pub(super) materials_pending: bool,
}

/// What a slice of lines decided, ready to be written: the bulk rows as
/// statements built ahead, the few others as they are.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) at: String,
    pub(super) events: Vec<EventRow>,
    pub(super) messages: Vec<(i64, Message)>,
    pub(super) pushes: Vec<PushRow>,
    pub(super) parties: Vec<(String, ProjectParty, i64)>,
    pub(super) built: Vec<Built>,
    pub(super) members: Vec<(String, MemberRecord)>,
    pub(super) complaints: Vec<(ComplaintRecord, String)>,
    pub(super) surveys: Vec<Envelope>,
    pub(super) rejects: Vec<crate::rejects::Kept>,
    pub(super) accepted: Vec<String>,
}

/// Write what a slice decided, in the open transaction.
pub(super) async fn write(conn: &mut SqliteConnection, p: Pending, source: &str) -> Result<()> {
    let at = p.at;
    run(conn, p.built).await?;

    for (username, m) in &p.members {
        crate::fold::upsert_member(conn, username, m, &at).await?;
    }
    for (c, lodged_at) in &p.complaints {
        crate::fold::upsert_complaint(conn, c, lodged_at, &at).await?;
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
    crate::rejects::keep(conn, source, p.rejects, &at).await?;
    crate::rejects::resolve(conn, &p.accepted, &at).await?;
    Ok(())
}

/// Insert or update projection rows of projects.
pub(super) async fn write_projects(
    conn: &mut SqliteConnection,
    rows: Vec<ProjectRow>,
    at: &str,
) -> Result<()> {
    let mut built = Vec::new();
    build_projects(&mut built, rows, at);
    run(conn, built).await
}

pub(super) fn build_projects(out: &mut Vec<Built>, rows: Vec<ProjectRow>, at: &str) {
    build_rows(
        out,
        "INSERT INTO projects (code, name, stage, progress, registered_at, updated_at, filing_pending, materials_pending) ",
        " ON CONFLICT (code) DO UPDATE SET stage = excluded.stage, progress = excluded.progress, \
         updated_at = excluded.updated_at, filing_pending = excluded.filing_pending, \
         materials_pending = excluded.materials_pending",
        rows,
        |mut b, r| {
            b.push_bind(r.code)
                .push_bind(r.name)
                .push_bind(r.stage)
                .push_bind(r.progress)
                .push_bind(r.registered_at)
                .push_bind(at.to_owned())
                .push_bind(r.filing_pending)
                .push_bind(r.materials_pending);
        },
    );
}

/// A `parties` row: project, role, id, name, phone, email, prefer.
pub(crate) type PartyRow = (
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
        let parties: Vec<PartyRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
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
