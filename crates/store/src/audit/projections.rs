//! The projections held to the events: every accepted event, in the order
//! (`fold`), is decided again through the core (`engine::decide`, as
//! intake decided it), and what that leaves — projects and their parties,
//! members, complaints, surveys, and the conflicts — must be what the
//! tables hold.
//! The events themselves are held to the chain by `verify`'s walk, so a
//! projection row changed, added or removed by hand is named here.
//!
//! Not derived from events, so not compared: the times a row was written
//! (`registered_at`, `updated_at`, a complaint's `resolved_at`), and a
//! member's one-time password hash, which the dispatcher issues.

use super::state::Finding;
use crate::fold::PartyRead;
use crate::fold::{fold_all, Derived, Stale};
use crate::surveys::SurveyRow;
use crate::Result;
use serde_json::Value;
use sqlx::SqliteConnection;
use std::collections::HashMap;

/// Fold every event in the order and compare the projection tables, and
/// the conflicts, with the result.
pub(crate) async fn check(conn: &mut SqliteConnection, own: i64) -> Result<Finding> {
    let (derived, stale) = fold_all(conn).await?;
    for found in [
        check_conflicts(conn, &stale).await?,
        check_holds(conn, own).await?,
        check_projects(conn, &derived).await?,
        check_parties(conn, &derived).await?,
        check_members(conn, &derived).await?,
        check_complaints(conn, &derived).await?,
        check_complaint_files(conn, &derived).await?,
        check_surveys(conn, &derived).await?,
    ] {
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// The pushes held from this desktop's dispatcher must be exactly those of
/// other devices' events (`remote`, under their own ids) and those of this
/// desktop's stale actions (`held`): a hold added by hand would silence a
/// push, one removed would send another device's push twice.
async fn check_holds(conn: &mut SqliteConnection, own: i64) -> Result<Finding> {
    let wrong: Option<(i64, Option<String>)> = sqlx::query_as(
        "SELECT p.no, h.why FROM pushes p JOIN events e ON e.no = p.event \
         LEFT JOIN push_holds h ON h.push_no = p.no \
         LEFT JOIN conflicts c ON c.origin_device = e.origin_device AND c.origin_seq = e.origin_seq \
           AND c.kind = 'stale' \
         WHERE h.why IS NOT (CASE WHEN e.origin_device <> ?1 THEN 'remote' \
                                  WHEN c.event_id IS NOT NULL THEN 'held' END) \
            OR (h.why = 'remote' AND h.id IS NOT p.id) \
         LIMIT 1",
    )
    .bind(own)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(wrong.map(|(no, why)| {
        let what = match why.as_deref() {
            Some("remote") => "标为由其他设备发送",
            Some(_) => "标为因冲突暂停",
            None => "缺少应有的暂停标记",
        };
        (
            None,
            format!("表 push_holds 中第 {no} 号推送{what}，与事件及冲突不符：该行被手工改动、插入或删除"),
        )
    }))
}

/// The stale events the fold found must be the conflicts the table holds.
async fn check_conflicts(conn: &mut SqliteConnection, stale: &[Stale]) -> Result<Finding> {
    let held: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT origin_device, origin_seq, event_id FROM conflicts WHERE kind = 'stale' \
         ORDER BY origin_device, origin_seq",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut found: Vec<(i64, i64, String)> = stale
        .iter()
        .map(|s| (s.origin_device, s.origin_seq, s.event_id.clone()))
        .collect();
    found.sort();
    if let Some(s) = found.iter().find(|s| !held.contains(s)) {
        return Ok(Some((
            Some(s.1),
            format!(
                "事件 `{}` 按次序重放时被拒绝，却没有记为冲突：事件的先后或内容与各表不一致",
                s.2
            ),
        )));
    }
    if let Some(h) = held.iter().find(|h| !found.contains(h)) {
        return Ok(differs(
            "conflicts",
            &format!("事件 `{}` ", h.2),
            "按次序重放时它并无冲突",
        ));
    }
    Ok(None)
}

fn differs(table: &str, row: &str, what: &str) -> Finding {
    Some((
        None,
        format!("表 {table} 中{row}与事件重放的结果不符（{what}）：该行被手工改动、插入或删除"),
    ))
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

async fn check_projects(conn: &mut SqliteConnection, d: &Derived) -> Result<Finding> {
    type Row = (String, String, Option<String>, String, bool, bool, bool);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT code, name, stage, progress, filing_pending, materials_pending, refund_pending FROM projects",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (code, name, stage, progress, filing, materials, refund) in &rows {
        let row = format!("项目 `{code}` ");
        let Some(p) = d.fold.projects.get(code) else {
            return Ok(differs("projects", &row, "没有登记它的事件"));
        };
        let want_stage = p.progress.current.map(|(s, _)| s.as_str());
        if *name != p.name {
            return Ok(differs("projects", &row, "名称"));
        }
        if json(progress) != serde_json::to_value(&p.progress)? || stage.as_deref() != want_stage {
            return Ok(differs("projects", &row, "进度"));
        }
        if (*filing, *materials, *refund)
            != (
                p.filing_pending(),
                p.materials_pending(),
                p.refund_pending(),
            )
        {
            return Ok(differs("projects", &row, "待办标记"));
        }
    }
    if rows.len() != d.fold.projects.len() {
        let missing = d
            .fold
            .projects
            .keys()
            .find(|c| !rows.iter().any(|r| &r.0 == *c))
            .cloned()
            .unwrap_or_default();
        return Ok(differs(
            "projects",
            &format!("项目 `{missing}` "),
            "该行缺失",
        ));
    }
    Ok(None)
}

async fn check_parties(conn: &mut SqliteConnection, d: &Derived) -> Result<Finding> {
    // In the order of arrival: a party's place is where it stands.
    let rows: Vec<PartyRead> = sqlx::query_as(
        "SELECT project, role, id, name, phone, email, prefer FROM parties ORDER BY project, position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut by_project: HashMap<&str, Vec<&PartyRead>> = HashMap::new();
    for r in &rows {
        by_project.entry(r.0.as_str()).or_default().push(r);
    }
    for (code, p) in &d.fold.projects {
        let held = by_project.remove(code.as_str()).unwrap_or_default();
        let row = format!("项目 `{code}` 的当事人");
        if held.len() != p.parties.len() {
            return Ok(differs("parties", &row, "人数"));
        }
        for (h, want) in held.iter().zip(p.parties.iter()) {
            let same = h.1 == want.role.as_str()
                && h.2 == want.party.id
                && h.3 == want.party.name
                && h.4 == want.party.phone
                && h.5 == want.party.email
                && h.6.as_deref() == want.party.prefer.map(|r| r.as_str());
            if !same {
                let who = format!("项目 `{code}` 的当事人 `{}`", want.party.id);
                return Ok(differs("parties", &who, "角色、名称、联系方式或次序"));
            }
        }
    }
    if let Some(code) = by_project.keys().next() {
        return Ok(differs(
            "parties",
            &format!("项目 `{code}` 的当事人"),
            "没有登记该项目的事件",
        ));
    }
    Ok(None)
}

async fn check_members(conn: &mut SqliteConnection, d: &Derived) -> Result<Finding> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT username, party, status FROM members ORDER BY username")
            .fetch_all(&mut *conn)
            .await?;
    for (username, party, status) in &rows {
        let row = format!("会员 `{username}` ");
        let Some(m) = d.fold.members.get(username) else {
            return Ok(differs("members", &row, "没有注册它的事件"));
        };
        if json(party) != serde_json::to_value(&m.party)? {
            return Ok(differs("members", &row, "资料"));
        }
        if Value::String(status.clone()) != serde_json::to_value(m.status)? {
            return Ok(differs("members", &row, "状态"));
        }
    }
    if rows.len() != d.fold.members.len() {
        return Ok(differs("members", "有会员", "该行缺失"));
    }
    Ok(None)
}

async fn check_complaints(conn: &mut SqliteConnection, d: &Derived) -> Result<Finding> {
    type Row = (String, Option<String>, String, String, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, project, record, lodged_at, resolved_at FROM complaints ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (id, project, record, lodged_at, resolved_at) in &rows {
        let row = format!("投诉 `{id}` ");
        let Some(c) = d.fold.complaints.get(id) else {
            return Ok(differs("complaints", &row, "没有登记它的事件"));
        };
        if json(record) != serde_json::to_value(c)? || *project != c.project {
            return Ok(differs("complaints", &row, "内容或处理结果"));
        }
        if Some(lodged_at) != d.lodged_at.get(id) || resolved_at.is_some() != c.result.is_some() {
            return Ok(differs("complaints", &row, "受理或办结时间"));
        }
    }
    if rows.len() != d.fold.complaints.len() {
        return Ok(differs("complaints", "有投诉", "该行缺失"));
    }
    Ok(None)
}

/// Each kept file is the bytes its key is the SM3 of, and a note names it.
async fn check_complaint_files(conn: &mut SqliteConnection, d: &Derived) -> Result<Finding> {
    let named: std::collections::HashSet<&str> = d
        .fold
        .complaints
        .values()
        .flat_map(|c| c.files())
        .map(|f| f.sm3.as_str())
        .collect();
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT sm3, bytes FROM complaint_files ORDER BY sm3")
            .fetch_all(&mut *conn)
            .await?;
    for (sm3, bytes) in &rows {
        let row = format!("附件 `{sm3}` ");
        if ggzy_core::audit::sm3_hex(bytes) != *sm3 {
            return Ok(differs("complaint_files", &row, "内容（与其 SM3 不符）"));
        }
        if !named.contains(sm3.as_str()) {
            return Ok(differs("complaint_files", &row, "没有记有它的调查记录"));
        }
    }
    Ok(None)
}

async fn check_surveys(conn: &mut SqliteConnection, d: &Derived) -> Result<Finding> {
    let rows: Vec<SurveyRow> =
        sqlx::query_as(&format!("{} ORDER BY event_id", crate::surveys::SELECT))
            .fetch_all(&mut *conn)
            .await?;
    for r in &rows {
        let row = format!("事件 `{}` 的满意度答卷", r.event_id);
        let Some(want) = d.surveys.get(&r.event_id) else {
            return Ok(differs("surveys", &row, "没有记录它的事件"));
        };
        // JSON compared as values: a row written before keeps its own key order.
        let same_json = |a: &Option<String>, b: &Option<String>| {
            a.as_deref().map(json) == b.as_deref().map(json)
        };
        fn plain(r: &SurveyRow) -> ([i64; 6], &Option<String>, &str, &Option<String>) {
            (r.scores(), &r.remarks, &r.answered_at, &r.project)
        }
        if json(&r.respondent) != json(&want.respondent)
            || !same_json(&r.details, &want.details)
            || plain(r) != plain(want)
        {
            return Ok(differs("surveys", &row, "评分或内容"));
        }
    }
    if rows.len() != d.surveys.len() {
        return Ok(differs("surveys", "有满意度答卷", "该行缺失"));
    }
    Ok(None)
}
