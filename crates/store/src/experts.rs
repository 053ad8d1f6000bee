//! The expert pool in the database: a roster imported from CSV (UTF-8 or
//! GB18030, as Excel saves it) or Excel (.xlsx), all of it or nothing,
//! updated by `id`; search; one expert saved from the app. Every row that
//! changes is covered by an `expert.saved` audit record holding its SM3.

use crate::audit::AuditWriter;
use crate::{now, Result, Store, StoreError};
use calamine::{Data, Reader};
use ggzy_core::audit::sm3_hex;
use ggzy_core::draw::Candidate;
use ggzy_core::error::ErrorCode;
use ggzy_core::experts::{Expert, ExpertStatus, COLUMNS};
use serde::Serialize;
use serde_json::json;
use sqlx::{QueryBuilder, Sqlite};
use std::collections::{BTreeMap, HashMap};

/// The kind of the record that covers an expert's row.
pub const SAVED: &str = "expert.saved";

/// A row of a roster that cannot be taken, named by its line and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterRefusal {
    /// The line (CSV) or row (Excel) as the file numbers it, the header being 1.
    pub line: usize,
    /// The column as the file's header names it.
    pub column: String,
    pub message: String,
}

/// What an import did: nothing at all when anything was refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RosterReport {
    pub rows: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub refused: Vec<RosterRefusal>,
}

/// A page of the pool, searched.
#[derive(Debug, Clone, Default)]
pub struct ExpertQuery {
    /// Part of the id, name, employer or phone.
    pub text: Option<String>,
    pub specialty: Option<String>,
    pub status: Option<ExpertStatus>,
    pub offset: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpertPage {
    pub total: i64,
    pub items: Vec<Expert>,
}

/// A row's SM3: what its `expert.saved` record holds.
pub fn digest(e: &Expert) -> String {
    sm3_hex(serde_json::to_string(e).expect("plain values"))
}

/// The cells of a roster: its header, then each row with its line number.
struct Table {
    header: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

fn invalid(message: String) -> StoreError {
    StoreError::invalid(ErrorCode::Invalid, message)
}

/// An Excel workbook starts as a zip file.
fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

fn read_csv(bytes: &[u8]) -> Result<Table> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Excel saves CSV in the system's code page: GB18030 on a Chinese desktop.
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => {
            let (t, _, bad) = encoding_rs::GB18030.decode(bytes);
            if bad {
                return Err(invalid(
                    "文件既不是 UTF-8 也不是 GBK/GB18030 编码的文本：请另存为 CSV（UTF-8）或 Excel 工作簿".into(),
                ));
            }
            t
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut header = None;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| invalid(format!("CSV 格式有误：{e}")))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if header.is_none() {
            header = Some(cells);
        } else if cells.iter().any(|c| !c.trim().is_empty()) {
            rows.push((line, cells));
        }
    }
    Ok(Table {
        header: header.unwrap_or_default(),
        rows,
    })
}

/// A cell as text: numbers without a trailing `.0` (phone numbers are often
/// typed as numbers), dates as YYYY-MM-DD.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => dt
            .as_datetime()
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| dt.to_string()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Table> {
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e| invalid(format!("无法读取 Excel 工作簿：{e}")))?;
    let sheet = book
        .worksheet_range_at(0)
        .ok_or_else(|| invalid("Excel 工作簿中没有工作表".into()))?
        .map_err(|e| invalid(format!("无法读取 Excel 工作表：{e}")))?;
    let first = sheet.start().map_or(0, |(r, _)| r as usize);
    let mut rows = sheet
        .rows()
        .enumerate()
        .map(|(i, r)| (first + i + 1, r.iter().map(cell_text).collect::<Vec<_>>()));
    let header = rows.next().map(|(_, h)| h).unwrap_or_default();
    Ok(Table {
        header,
        rows: rows
            .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
            .collect(),
    })
}

/// The experts of a roster file, or why not: a file that cannot be read as
/// a roster is an error; rows that break a rule are listed, each by line and
/// column, and none is taken.
pub fn read_roster(bytes: &[u8]) -> Result<std::result::Result<Vec<Expert>, Vec<RosterRefusal>>> {
    let table = if is_xlsx(bytes) {
        read_xlsx(bytes)?
    } else {
        read_csv(bytes)?
    };
    // Each column of the header, by its English name.
    let mut at: HashMap<&'static str, (usize, String)> = HashMap::new();
    for (i, name) in table.header.iter().enumerate() {
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        let Some((en, _)) = COLUMNS
            .iter()
            .find(|(en, zh)| name.eq_ignore_ascii_case(en) || name == *zh)
        else {
            let known: Vec<String> = COLUMNS
                .iter()
                .map(|(en, zh)| format!("{en}（{zh}）"))
                .collect();
            return Err(invalid(format!(
                "表头第 {} 列“{name}”不是名册的列；可用的列：{}",
                i + 1,
                known.join("、")
            )));
        };
        if at.insert(en, (i, name.to_owned())).is_some() {
            return Err(invalid(format!("表头中“{name}”列重复")));
        }
    }
    let missing: Vec<String> = ["id", "name", "id_number", "specialties", "employer"]
        .iter()
        .filter(|c| !at.contains_key(*c))
        .map(|c| {
            let zh = COLUMNS
                .iter()
                .find(|(en, _)| en == c)
                .map_or("", |(_, zh)| zh);
            format!("{c}（{zh}）")
        })
        .collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "表头缺少必需的列：{}。第一行须为表头，如 {}",
            missing.join("、"),
            COLUMNS
                .iter()
                .map(|(en, _)| *en)
                .collect::<Vec<_>>()
                .join(",")
        )));
    }
    let mut experts: Vec<Expert> = Vec::new();
    let mut lines: HashMap<String, usize> = HashMap::new();
    let mut refused = Vec::new();
    for (line, cells) in &table.rows {
        let cell = |field: &str| {
            at.get(field)
                .and_then(|(i, _)| cells.get(*i))
                .cloned()
                .unwrap_or_default()
        };
        let column = |field: &str| {
            at.get(field)
                .map_or_else(|| field.to_owned(), |(_, n)| n.clone())
        };
        match Expert::from_cells(cell) {
            Ok(e) => {
                if let Some(first) = lines.get(&e.id) {
                    refused.push(RosterRefusal {
                        line: *line,
                        column: column("id"),
                        message: format!("编号 `{}` 与第 {first} 行重复", e.id),
                    });
                } else {
                    lines.insert(e.id.clone(), *line);
                    experts.push(e);
                }
            }
            Err(e) => refused.push(RosterRefusal {
                line: *line,
                column: column(e.field),
                message: e.message,
            }),
        }
    }
    if experts.is_empty() && refused.is_empty() {
        return Err(invalid("名册中没有专家：表头之后没有数据行".into()));
    }
    Ok(if refused.is_empty() {
        Ok(experts)
    } else {
        Err(refused)
    })
}

const COLUMNS_SQL: &str =
    "id, name, id_number, phone, email, specialties, employer, region, status, unavailable";

#[derive(sqlx::FromRow)]
struct ExpertRow {
    id: String,
    name: String,
    id_number: String,
    phone: Option<String>,
    email: Option<String>,
    specialties: String,
    employer: String,
    region: String,
    status: String,
    unavailable: String,
}

impl TryFrom<ExpertRow> for Expert {
    type Error = StoreError;
    fn try_from(r: ExpertRow) -> Result<Expert> {
        let corrupt = |what: String| StoreError::Corrupt(format!("专家 `{}` 的{what}", r.id));
        Ok(Expert {
            specialties: serde_json::from_str(&r.specialties)
                .map_err(|e| corrupt(format!("专业无法读取：{e}")))?,
            unavailable: serde_json::from_str(&r.unavailable)
                .map_err(|e| corrupt(format!("不可用日期无法读取：{e}")))?,
            status: ExpertStatus::try_from(r.status.clone()).map_err(|e| corrupt(e.to_string()))?,
            id: r.id,
            name: r.name,
            id_number: r.id_number,
            phone: r.phone,
            email: r.email,
            employer: r.employer,
            region: r.region,
        })
    }
}

/// Write experts (new or changed ones), each with its record, in the
/// caller's transaction. Returns (added, updated).
async fn write(
    conn: &mut sqlx::SqliteConnection,
    device: i64,
    experts: &[&Expert],
    known: &BTreeMap<String, String>,
    by: &str,
    via: &str,
) -> Result<(usize, usize)> {
    let at = now();
    let mut audit = AuditWriter::load(conn, device).await?;
    let mut added = 0;
    for e in experts {
        if !known.contains_key(&e.id) {
            added += 1;
        }
        audit.append(
            &at,
            SAVED,
            &e.id,
            json!({ "digest": digest(e), "by": by, "via": via }),
        );
    }
    // One statement for the lot: the rows go as one JSON array.
    let rows = serde_json::to_string(
        &experts
            .iter()
            .map(|e| {
                json!([
                    e.id,
                    e.name,
                    e.id_number,
                    e.phone,
                    e.email,
                    serde_json::to_string(&e.specialties).expect("strings"),
                    e.employer,
                    e.region,
                    e.status.as_str(),
                    serde_json::to_string(&e.unavailable).expect("dates")
                ])
            })
            .collect::<Vec<_>>(),
    )?;
    sqlx::query(&format!(
        "INSERT INTO experts ({COLUMNS_SQL}, updated_at) \
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
                value ->> 6, value ->> 7, value ->> 8, value ->> 9, ?2 FROM json_each(?1) \
         WHERE true ON CONFLICT (id) DO UPDATE SET name = excluded.name, id_number = excluded.id_number, \
         phone = excluded.phone, email = excluded.email, specialties = excluded.specialties, \
         employer = excluded.employer, region = excluded.region, status = excluded.status, \
         unavailable = excluded.unavailable, updated_at = excluded.updated_at"
    ))
    .bind(rows)
    .bind(&at)
    .execute(&mut *conn)
    .await?;
    audit.flush(conn).await?;
    Ok((added, experts.len() - added))
}

impl Store {
    /// Import a roster: every row checked first; refused rows are reported
    /// and nothing is written; otherwise new experts are added and known
    /// ones (by `id`) updated, in one transaction. `file` names it in the trail.
    pub async fn import_experts(&self, bytes: &[u8], file: &str, by: &str) -> Result<RosterReport> {
        let experts = match read_roster(bytes)? {
            Ok(e) => e,
            Err(refused) => {
                return Ok(RosterReport {
                    refused,
                    ..Default::default()
                })
            }
        };
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let known = digests(conn).await?;
        let changed: Vec<&Expert> = experts
            .iter()
            .filter(|e| known.get(&e.id) != Some(&digest(e)))
            .collect();
        let via = format!("import:{file}");
        let (added, updated) = write(conn, self.device_n(), &changed, &known, by, &via).await?;
        tx.commit().await?;
        Ok(RosterReport {
            rows: experts.len(),
            added,
            updated,
            unchanged: experts.len() - changed.len(),
            refused: Vec::new(),
        })
    }

    /// Save one expert (new, or changed by `id`), checked; audited.
    pub async fn save_expert(&self, expert: &Expert, by: &str) -> Result<()> {
        expert.check().map_err(|e| {
            invalid(format!(
                "{}（{}）：{}",
                column_zh(e.field),
                e.field,
                e.message
            ))
        })?;
        let mut tx = self.write().await?;
        let conn = tx.conn();
        let known: BTreeMap<String, String> =
            sqlx::query_as::<_, (String, String)>("SELECT id, '' FROM experts WHERE id = ?")
                .bind(&expert.id)
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .collect();
        write(conn, self.device_n(), &[expert], &known, by, "app").await?;
        tx.commit().await
    }

    pub async fn expert(&self, id: &str) -> Result<Expert> {
        let row: ExpertRow =
            sqlx::query_as(&format!("SELECT {COLUMNS_SQL} FROM experts WHERE id = ?"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("专家库中没有编号为 `{id}` 的专家")))?;
        row.try_into()
    }

    /// A page of the pool, ordered by id.
    pub async fn experts(&self, q: &ExpertQuery) -> Result<ExpertPage> {
        let filter = |b: &mut QueryBuilder<'_, Sqlite>| {
            b.push(" WHERE true");
            if let Some(t) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                let like = crate::projects::contains(t);
                b.push(" AND (id LIKE ")
                    .push_bind(like.clone())
                    .push(" ESCAPE '\\' OR name LIKE ")
                    .push_bind(like.clone())
                    .push(" ESCAPE '\\' OR employer LIKE ")
                    .push_bind(like.clone())
                    .push(" ESCAPE '\\' OR phone LIKE ")
                    .push_bind(like)
                    .push(" ESCAPE '\\')");
            }
            if let Some(s) = q.specialty.as_deref().filter(|s| !s.trim().is_empty()) {
                b.push(" AND EXISTS (SELECT 1 FROM json_each(specialties) WHERE value = ")
                    .push_bind(s.trim().to_owned())
                    .push(")");
            }
            if let Some(s) = q.status {
                b.push(" AND status = ").push_bind(s.as_str());
            }
        };
        let mut count = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM experts");
        filter(&mut count);
        let total: i64 = count.build_query_scalar().fetch_one(self.pool()).await?;
        let mut page = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS_SQL} FROM experts"));
        filter(&mut page);
        page.push(" ORDER BY id LIMIT ")
            .push_bind(q.limit.clamp(1, 500))
            .push(" OFFSET ")
            .push_bind(q.offset.max(0));
        let rows: Vec<ExpertRow> = page.build_query_as().fetch_all(self.pool()).await?;
        let items = rows
            .into_iter()
            .map(Expert::try_from)
            .collect::<Result<_>>()?;
        Ok(ExpertPage { total, items })
    }

    /// What a draw needs of the experts holding any of `codes` (nothing
    /// that says who they are), read straight from the rows.
    pub async fn draw_candidates(&self, codes: &[String]) -> Result<Vec<Candidate>> {
        let rows: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT id, specialties, employer, region, status, unavailable FROM experts \
             WHERE EXISTS (SELECT 1 FROM json_each(specialties) s, json_each(?) w WHERE s.value = w.value)",
        )
        .bind(serde_json::to_string(codes)?)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(id, specialties, employer, region, status, unavailable)| {
                let corrupt = |what: String| StoreError::Corrupt(format!("专家 `{id}` 的{what}"));
                Ok(Candidate {
                    specialties: serde_json::from_str(&specialties)
                        .map_err(|e| corrupt(format!("专业无法读取：{e}")))?,
                    unavailable: serde_json::from_str(&unavailable)
                        .map_err(|e| corrupt(format!("不可用日期无法读取：{e}")))?,
                    status: ExpertStatus::try_from(status).map_err(|e| corrupt(e.to_string()))?,
                    id,
                    employer,
                    region,
                })
            })
            .collect()
    }

    /// The whole pool.
    pub async fn expert_pool(&self) -> Result<Vec<Expert>> {
        let rows: Vec<ExpertRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS_SQL} FROM experts ORDER BY id"))
                .fetch_all(self.pool())
                .await?;
        rows.into_iter().map(Expert::try_from).collect()
    }
}

/// Each expert's row digest, by id.
pub(crate) async fn digests(conn: &mut sqlx::SqliteConnection) -> Result<BTreeMap<String, String>> {
    let rows: Vec<ExpertRow> = sqlx::query_as(&format!("SELECT {COLUMNS_SQL} FROM experts"))
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter()
        .map(|r| {
            let e = Expert::try_from(r)?;
            Ok((e.id.clone(), digest(&e)))
        })
        .collect()
}

/// A column's Chinese name.
fn column_zh(field: &str) -> &'static str {
    COLUMNS
        .iter()
        .find(|(en, _)| *en == field)
        .map_or("", |(_, zh)| zh)
}
