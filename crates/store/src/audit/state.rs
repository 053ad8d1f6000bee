//! The current state held to the trail. Every table whose rows change what
//! the app shows, decides or sends, and that is not itself append-only and
//! chained, is checked here against the records `verify` walked: users and
//! their roles, settings, the channel configuration and contact rules, the
//! expert pool and its draws, the improvement register, where
//! each push stands, and refused input. A row changed, added or removed by
//! hand is named with its table.

use crate::rejects::{FIXED, KEPT};
use crate::users::{UserRow, UserState, SELECT_ROWS};
use crate::Result;
use ggzy_core::audit::sm3_hex;
use serde_json::Value;
use sqlx::{FromRow, SqliteConnection};
use std::collections::{BTreeMap, HashMap};

/// A finding: the record it contradicts (if one), and what is wrong.
pub(crate) type Finding = Option<(Option<i64>, String)>;

/// What the records say the state should be, gathered as `verify` walks them.
#[derive(Default)]
pub(crate) struct Replay {
    /// Username -> (seq, state after its last record).
    users: BTreeMap<String, (i64, Value)>,
    /// Setting key -> (seq, value).
    settings: BTreeMap<String, (i64, String)>,
    /// Expert id -> (seq, the row's SM3).
    experts: BTreeMap<String, (i64, String)>,
    /// Improvement item id -> (seq, the row's SM3), from its latest `improvement.saved`.
    improvements: BTreeMap<String, (i64, String)>,
    /// Draw call (`draw#seq`) -> (seq, digest), from its latest `draw.call`.
    calls: BTreeMap<String, (i64, String)>,
    /// Draw id -> (seq, the commitment, the inputs' SM3), from `draw.committed`.
    committed: BTreeMap<String, (i64, String, String)>,
    /// Draw id -> (seq, the seed, the outcome's SM3 if any), from `draw.revealed`.
    revealed: BTreeMap<String, (i64, String, Option<String>)>,
    /// `meta` key -> (seq, value as recorded).
    meta: BTreeMap<&'static str, (i64, Value)>,
    /// Refused line digest -> what its records say.
    rejects: HashMap<String, Recorded>,
    /// Push number -> times a person put it back in line (its series).
    requeues: HashMap<i64, i64>,
    /// Conflict resolutions of every device: (subject, how, by, event).
    resolutions: Vec<(String, String, String, Option<String>)>,
}

/// A refused line as its records hold it.
struct Recorded {
    seq: i64,
    event_id: Option<String>,
    /// Every (code, reason) it was refused with: the row keeps one of them.
    reasons: Vec<(String, String)>,
    /// The event a person's correction was accepted as.
    fixed: Option<String>,
}

/// The deployment-wide values kept in `meta` that records cover, and how.
const META: [(&str, &str, &str); 6] = [
    ("dispatch.configured", "dispatch_config", "config"),
    ("contact_rules.changed", "contact_rules", "rules"),
    ("checklists.changed", "checklists", "checklists"),
    ("calendar.changed", "calendar", "calendar"),
    ("limits.changed", "limits", "limits"),
    ("demo.marked", "demo", "value"),
];

impl Replay {
    /// Take one record into account.
    pub(crate) fn record(&mut self, seq: i64, kind: &str, subject: &str, content: &Value) {
        let str_of = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        match kind {
            k if k.starts_with("user.") => {
                if let Some(state) = content.get("state") {
                    self.users.insert(subject.to_owned(), (seq, state.clone()));
                }
            }
            "setting.changed" => {
                let value = str_of(&content["value"]);
                self.settings.insert(subject.to_owned(), (seq, value));
            }
            "push.status" if content.get("by").is_some() => {
                if let Ok(no) = subject.parse() {
                    *self.requeues.entry(no).or_default() += 1;
                }
            }
            KEPT => {
                for row in content["rejects"].as_array().into_iter().flatten() {
                    let r = self
                        .rejects
                        .entry(str_of(&row[0]))
                        .or_insert_with(|| Recorded {
                            seq,
                            event_id: row[2].as_str().map(str::to_owned),
                            reasons: Vec::new(),
                            fixed: None,
                        });
                    r.reasons.push((str_of(&row[3]), str_of(&row[4])));
                }
            }
            FIXED => {
                if let Some(r) = self.rejects.get_mut(subject) {
                    r.fixed = Some(str_of(&content["event"]));
                }
            }
            crate::draws::COMMITTED => {
                let (commitment, inputs) =
                    (str_of(&content["commitment"]), str_of(&content["inputs"]));
                self.committed
                    .insert(subject.to_owned(), (seq, commitment, inputs));
            }
            crate::draws::REVEALED => {
                let outcome = content["outcome"].as_str().map(str::to_owned);
                self.revealed
                    .insert(subject.to_owned(), (seq, str_of(&content["seed"]), outcome));
            }
            crate::experts::SAVED => {
                let digest = str_of(&content["digest"]);
                self.experts.insert(subject.to_owned(), (seq, digest));
            }
            crate::improvements::SAVED => {
                let digest = str_of(&content["digest"]);
                self.improvements.insert(subject.to_owned(), (seq, digest));
            }
            crate::draw_calls::CALL => {
                let digest = str_of(&content["digest"]);
                self.calls.insert(subject.to_owned(), (seq, digest));
            }
            _ => {
                if let Some((_, key, field)) = META.iter().find(|(k, ..)| *k == kind) {
                    self.meta.insert(key, (seq, content[field].clone()));
                }
            }
        }
    }

    /// Take a record of any device's into account: a conflict resolved
    /// there is resolved here.
    pub(crate) fn shared(&mut self, kind: &str, subject: &str, content: &Value) {
        if kind == super::RESOLVED {
            let field = |k: &str| content[k].as_str().unwrap_or_default().to_owned();
            let event = content["event"].as_str().map(str::to_owned);
            self.resolutions
                .push((subject.to_owned(), field("how"), field("by"), event));
        }
    }

    /// The first row that is not what the records say.
    pub(crate) async fn check(self, conn: &mut SqliteConnection) -> Result<Finding> {
        let found = check_resolutions(conn, &self.resolutions).await?;
        if found.is_some() {
            return Ok(found);
        }
        let found = check_users(conn, &self.users).await?;
        if found.is_some() {
            return Ok(found);
        }
        let found = check_settings(conn, &self.settings, &self.meta).await?;
        if found.is_some() {
            return Ok(found);
        }
        let experts = crate::experts::digests(conn).await?;
        let found = check_covered("experts", "专家", &experts, &self.experts);
        if found.is_some() {
            return Ok(found);
        }
        let calls = crate::draw_calls::digests(conn).await?;
        let found = check_covered("draw_calls", "抽取通知", &calls, &self.calls);
        if found.is_some() {
            return Ok(found);
        }
        let items = crate::improvements::digests(conn).await?;
        let found = check_covered("improvements", "改进事项", &items, &self.improvements);
        if found.is_some() {
            return Ok(found);
        }
        let found = check_draws(conn, &self.committed, &self.revealed).await?;
        if found.is_some() {
            return Ok(found);
        }
        let found = check_push_states(conn, &self.requeues).await?;
        if found.is_some() {
            return Ok(found);
        }
        check_rejects(conn, &self.rejects).await
    }
}

async fn check_users(
    conn: &mut SqliteConnection,
    recorded: &BTreeMap<String, (i64, Value)>,
) -> Result<Finding> {
    let rows: Vec<UserRow> = sqlx::query_as(SELECT_ROWS)
        .bind(None::<String>)
        .fetch_all(&mut *conn)
        .await?;
    let mut seen = 0;
    for row in rows {
        let username = row.username.clone();
        let Some((seq, state)) = recorded.get(&username) else {
            return Ok(Some((
                None,
                format!("表 users 中的用户 `{username}` 没有任何审计记录（绕过程序直接写入）"),
            )));
        };
        seen += 1;
        let now = serde_json::to_value(row.state())?;
        let Ok(was) = serde_json::from_value::<UserState>(state.clone()) else {
            return Ok(Some((
                Some(*seq),
                format!("第 {seq} 条审计记录所记用户 `{username}` 的状态无法读取"),
            )));
        };
        let was = serde_json::to_value(was)?;
        let field = now
            .as_object()
            .into_iter()
            .flatten()
            .find(|(k, v)| was.get(k.as_str()) != Some(v));
        if let Some((k, v)) = field {
            let what = if k == "password" {
                "密码".to_owned()
            } else {
                format!("{k} 为 {v}，而审计记录为 {}", was[k.as_str()])
            };
            return Ok(Some((
                Some(*seq),
                format!("表 users 中用户 `{username}` 的{what}与第 {seq} 条审计记录不符（被改写）"),
            )));
        }
    }
    if seen < recorded.len() {
        let users: Vec<String> = sqlx::query_scalar("SELECT username FROM users")
            .fetch_all(&mut *conn)
            .await?;
        if let Some((name, (seq, _))) = recorded.iter().find(|(u, _)| !users.contains(u)) {
            return Ok(Some((
                Some(*seq),
                format!("表 users 中的用户 `{name}` 被删除（第 {seq} 条审计记录记有该用户）"),
            )));
        }
    }
    Ok(None)
}

/// Rows each covered by their latest record's SM3 (the pool, a draw's
/// calls): none without a record, none changed, none deleted.
fn check_covered(
    table: &str,
    noun: &str,
    rows: &BTreeMap<String, String>,
    recorded: &BTreeMap<String, (i64, String)>,
) -> Finding {
    for (id, digest) in rows {
        match recorded.get(id) {
            None => {
                return Some((
                    None,
                    format!("表 {table} 中的{noun} `{id}` 没有任何审计记录（绕过程序直接写入）"),
                ))
            }
            Some((seq, was)) if was != digest => {
                return Some((
                    Some(*seq),
                    format!("表 {table} 中{noun} `{id}` 的信息与第 {seq} 条审计记录不符（被改写）"),
                ))
            }
            Some(_) => {}
        }
    }
    recorded
        .iter()
        .find(|(id, _)| !rows.contains_key(*id))
        .map(|(id, (seq, _))| {
            (
                Some(*seq),
                format!("表 {table} 中的{noun} `{id}` 被删除（第 {seq} 条审计记录记有该{noun}）"),
            )
        })
}

/// Each draw as its two records say: the commitment and the inputs' SM3
/// from before it, the seed and the outcome's SM3 from after it.
async fn check_draws(
    conn: &mut SqliteConnection,
    committed: &BTreeMap<String, (i64, String, String)>,
    revealed: &BTreeMap<String, (i64, String, Option<String>)>,
) -> Result<Finding> {
    type Row = (String, String, String, Option<String>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as("SELECT id, inputs, commitment, seed, outcome FROM draws")
        .fetch_all(&mut *conn)
        .await?;
    for (id, inputs, commitment, seed, outcome) in &rows {
        let Some((seq, was_commitment, was_inputs)) = committed.get(id) else {
            return Ok(Some((
                None,
                format!("表 draws 中的抽取 `{id}` 没有任何审计记录（绕过程序直接写入）"),
            )));
        };
        if commitment != was_commitment || &sm3_hex(inputs) != was_inputs {
            return Ok(Some((
                Some(*seq),
                format!(
                    "表 draws 中抽取 `{id}` 的抽取条件或承诺值与第 {seq} 条审计记录不符（被改写）"
                ),
            )));
        }
        let now = (seed.as_deref(), outcome.as_deref().map(sm3_hex));
        let same = match revealed.get(id) {
            Some((_, was_seed, was_outcome)) => {
                now.0 == Some(was_seed.as_str()) && now.1.as_deref() == was_outcome.as_deref()
            }
            None => now == (None, None),
        };
        if !same {
            let seq = revealed.get(id).map_or(*seq, |(s, ..)| *s);
            return Ok(Some((
                Some(seq),
                format!("表 draws 中抽取 `{id}` 的种子或结果与第 {seq} 条审计记录不符（被改写）"),
            )));
        }
    }
    if let Some((id, (seq, ..))) = committed
        .iter()
        .find(|(id, _)| !rows.iter().any(|r| &r.0 == *id))
    {
        return Ok(Some((
            Some(*seq),
            format!("表 draws 中的抽取 `{id}` 被删除（第 {seq} 条审计记录记有该抽取）"),
        )));
    }
    Ok(None)
}

async fn check_settings(
    conn: &mut SqliteConnection,
    recorded: &BTreeMap<String, (i64, String)>,
    meta: &BTreeMap<&'static str, (i64, Value)>,
) -> Result<Finding> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM settings")
        .fetch_all(&mut *conn)
        .await?;
    for (key, value) in &rows {
        match recorded.get(key) {
            None => {
                return Ok(Some((
                    None,
                    format!("表 settings 中的设置 `{key}` 没有任何审计记录（绕过程序直接写入）"),
                )))
            }
            Some((seq, was)) if was != value => {
                return Ok(Some((
                    Some(*seq),
                    format!("表 settings 中设置 `{key}` 的值“{value}”与第 {seq} 条审计记录的“{was}”不符（被改写）"),
                )))
            }
            Some(_) => {}
        }
    }
    if let Some((key, (seq, _))) = recorded
        .iter()
        .find(|(k, _)| !rows.iter().any(|(r, _)| r == *k))
    {
        return Ok(Some((
            Some(*seq),
            format!("表 settings 中的设置 `{key}` 被删除（第 {seq} 条审计记录记有该设置）"),
        )));
    }
    for (_, key, _) in META {
        let stored: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
        let same = match (meta.get(key), &stored) {
            (None, None) => true,
            // The channel configuration is recorded as its text, the contact rules as JSON.
            (Some((_, Value::String(was))), Some(now)) => was == now,
            (Some((_, was)), Some(now)) => {
                serde_json::from_str::<Value>(now).ok().as_ref() == Some(was)
            }
            _ => false,
        };
        if !same {
            let seq = meta.get(key).map(|(s, _)| *s);
            let what = match (seq, stored) {
                (None, _) => "没有任何审计记录（绕过程序直接写入）".to_owned(),
                (Some(s), None) => format!("被删除（第 {s} 条审计记录记有它）"),
                (Some(s), Some(_)) => format!("与第 {s} 条审计记录不符（被改写）"),
            };
            return Ok(Some((seq, format!("表 meta 中的 `{key}` {what}"))));
        }
    }
    Ok(None)
}

#[derive(FromRow)]
struct StateCheck {
    push_no: i64,
    status: String,
    last: Option<String>,
    seq: Option<i64>,
}

/// Where each push stands is its last status record; a push being sent
/// again (a retry or an unanswered send claimed) reads `sending` until its
/// next record; a push a person put back in line is in as many series.
async fn check_push_states(
    conn: &mut SqliteConnection,
    requeues: &HashMap<i64, i64>,
) -> Result<Finding> {
    // A state whose status is not its last record's, or that has none and is
    // not being sent, or that went missing while the push has records.
    let wrong: Option<StateCheck> = sqlx::query_as(
        "WITH last AS (SELECT push_no, status, max(origin_seq) AS seq FROM push_status GROUP BY push_no) \
         SELECT s.push_no, s.status, l.status AS last, l.seq FROM push_states s \
         LEFT JOIN last l ON l.push_no = s.push_no \
         WHERE (l.status IS NULL AND s.status <> 'sending') \
            OR (l.status IS NOT s.status AND NOT (s.status = 'sending' AND l.status IN ('retrying', 'unknown'))) \
         UNION ALL SELECT l.push_no, '', l.status, l.seq FROM last l \
         WHERE NOT EXISTS (SELECT 1 FROM push_states s WHERE s.push_no = l.push_no) \
         ORDER BY 1 LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(w) = wrong {
        let no = w.push_no;
        let message = match (&w.last, w.status.as_str()) {
            (None, s) => format!("表 push_states 中第 {no} 号推送的状态为“{s}”，但它没有任何状态记录（绕过程序直接写入）"),
            (Some(l), "") => format!("表 push_states 中第 {no} 号推送的状态被删除（其最后的状态记录为“{l}”）"),
            (Some(l), s) => format!("表 push_states 中第 {no} 号推送的状态为“{s}”，与其最后的状态记录“{l}”不符（被改写）"),
        };
        return Ok(Some((w.seq, message)));
    }
    let series: Vec<(i64, i64)> =
        sqlx::query_as("SELECT push_no, series FROM push_states WHERE series > 0")
            .fetch_all(&mut *conn)
            .await?;
    let stored: HashMap<i64, i64> = series.into_iter().collect();
    let differs = stored
        .iter()
        .map(|(no, n)| (*no, *n))
        .chain(
            requeues
                .keys()
                .map(|no| (*no, stored.get(no).copied().unwrap_or(0))),
        )
        .find(|(no, n)| requeues.get(no).copied().unwrap_or(0) != *n);
    if let Some((no, n)) = differs {
        let recorded = requeues.get(&no).copied().unwrap_or(0);
        return Ok(Some((
            None,
            format!("表 push_states 中第 {no} 号推送已重新排队 {n} 次，而审计记录为 {recorded} 次（被改写）"),
        )));
    }
    Ok(None)
}

#[derive(FromRow)]
struct RejectRow {
    id: i64,
    digest: String,
    raw: String,
    event_id: Option<String>,
    code: String,
    message: String,
    resolved_by: Option<String>,
    /// Whether an event with the reject's id was accepted.
    accepted: bool,
}

/// Each refused line is one its records kept, with a reason they gave, and
/// is resolved exactly when its correction was accepted: by a person's fix,
/// or an event with its id (an id conflict is never resolved that way).
async fn check_rejects(
    conn: &mut SqliteConnection,
    recorded: &HashMap<String, Recorded>,
) -> Result<Finding> {
    let rows: Vec<RejectRow> = sqlx::query_as(
        "SELECT r.id, r.digest, r.raw, r.event_id, r.code, r.message, r.resolved_by, \
         EXISTS (SELECT 1 FROM events e WHERE e.id = r.event_id) AS accepted FROM rejects r ORDER BY r.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let finding = |seq: Option<i64>, id: i64, what: &str| {
        Ok(Some((
            seq,
            format!("表 rejects 中第 {id} 条拒收记录{what}"),
        )))
    };
    for r in &rows {
        let Some(rec) = recorded.get(&r.digest) else {
            return finding(None, r.id, "没有任何审计记录（绕过程序直接写入）");
        };
        let seq = Some(rec.seq);
        if sm3_hex(&r.raw) != r.digest || rec.event_id != r.event_id {
            return finding(
                seq,
                r.id,
                &format!("的原文与第 {} 条审计记录不符（被改写）", rec.seq),
            );
        }
        if !rec
            .reasons
            .iter()
            .any(|(c, m)| *c == r.code && *m == r.message)
        {
            return finding(
                seq,
                r.id,
                &format!("的拒收原因与第 {} 条审计记录不符（被改写）", rec.seq),
            );
        }
        let resolved = rec.fixed.clone().or_else(|| {
            (r.code != "id_conflict" && r.accepted)
                .then(|| r.event_id.clone())
                .flatten()
        });
        if resolved != r.resolved_by {
            let what = match (&resolved, &r.resolved_by) {
                (None, Some(_)) => "被标为已处理，但没有被受理的更正".to_owned(),
                (Some(e), None) => format!("已由事件 `{e}` 处理，却被改回待处理"),
                _ => "的处理结果与审计记录不符（被改写）".to_owned(),
            };
            return finding(seq, r.id, &what);
        }
    }
    if rows.len() < recorded.len() {
        let kept: std::collections::HashSet<&str> =
            rows.iter().map(|r| r.digest.as_str()).collect();
        if let Some(rec) = recorded
            .iter()
            .filter(|(d, _)| !kept.contains(d.as_str()))
            .map(|(_, r)| r)
            .min_by_key(|r| r.seq)
        {
            let id = rec.event_id.as_deref().unwrap_or("无 id");
            return Ok(Some((
                Some(rec.seq),
                format!(
                    "表 rejects 中事件 `{id}` 的拒收记录被删除（第 {} 条审计记录记有它）",
                    rec.seq
                ),
            )));
        }
    }
    Ok(None)
}

/// Every resolution kept must be one a record made.
async fn check_resolutions(
    conn: &mut SqliteConnection,
    recorded: &[(String, String, String, Option<String>)],
) -> Result<Finding> {
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT d.id || ':' || r.origin_seq, r.how, r.by, r.event FROM conflict_resolutions r \
         LEFT JOIN devices d ON d.n = r.origin_device ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().find(|r| !recorded.contains(r)).map(|r| {
        (
            None,
            format!(
                "表 conflict_resolutions 中冲突 {} 的处理结果没有对应的审计记录（被改写或插入）",
                r.0
            ),
        )
    }))
}
