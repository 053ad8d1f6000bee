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
    pub(super) refund_pending: bool,
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
    /// Each complaint as it stands, when it was lodged and (if this event
    /// resolved it) when, by the events' own times.
    pub(super) complaints: Vec<(ComplaintRecord, String, Option<String>)>,
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
    for (c, lodged_at, resolved_at) in &p.complaints {
        crate::fold::upsert_complaint(conn, c, lodged_at, resolved_at.as_deref()).await?;
    }
    for env in &p.surveys {
        if let Some(row) = crate::surveys::SurveyRow::of(env) {
            row.write(conn).await?;
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
        "INSERT INTO projects (code, name, stage, progress, registered_at, updated_at, filing_pending, materials_pending, \
         refund_pending) ",
        " ON CONFLICT (code) DO UPDATE SET stage = excluded.stage, progress = excluded.progress, \
         updated_at = excluded.updated_at, filing_pending = excluded.filing_pending, \
         materials_pending = excluded.materials_pending, refund_pending = excluded.refund_pending",
        rows,
        |mut b, r| {
            b.push_bind(r.code)
                .push_bind(r.name)
                .push_bind(r.stage)
                .push_bind(r.progress)
                .push_bind(r.registered_at)
                .push_bind(at.to_owned())
                .push_bind(r.filing_pending)
                .push_bind(r.materials_pending)
                .push_bind(r.refund_pending);
        },
    );
}
