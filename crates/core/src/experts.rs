//! The evaluation expert pool (评标专家库): an expert as the center keeps
//! them, the checks a row of an imported roster passes, and how an ID
//! number is shown (masked).

use crate::event::{valid_email, valid_phone};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Whether an expert may be drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ExpertStatus {
    /// 在库: may be drawn.
    Active,
    /// 暂停: kept, never drawn.
    Suspended,
}

impl ExpertStatus {
    pub const ALL: [ExpertStatus; 2] = [ExpertStatus::Active, ExpertStatus::Suspended];

    pub fn as_str(self) -> &'static str {
        match self {
            ExpertStatus::Active => "active",
            ExpertStatus::Suspended => "suspended",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            ExpertStatus::Active => "在库",
            ExpertStatus::Suspended => "暂停抽取",
        }
    }

    /// A status as a roster writes it: the code, or its Chinese name.
    pub fn read(text: &str) -> Option<ExpertStatus> {
        let t = text.trim();
        ExpertStatus::ALL.into_iter().find(|s| {
            t.eq_ignore_ascii_case(s.as_str())
                || t == s.zh()
                || (*s == ExpertStatus::Active && matches!(t, "正常" | "有效"))
                || (*s == ExpertStatus::Suspended && t == "暂停")
        })
    }
}

crate::model::codes!(ExpertStatus => "专家状态");

/// One expert of the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Expert {
    pub id: String,
    pub name: String,
    /// 身份证号: shown masked everywhere but to the expert's own record.
    pub id_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub email: Option<String>,
    /// Specialty codes (专业), e.g. `A01`.
    pub specialties: Vec<String>,
    /// 工作单位: an expert is not drawn for a project whose tenderer, agency
    /// or bidder this is (回避).
    pub employer: String,
    /// 地区, for the optional region rule.
    #[serde(default)]
    pub region: String,
    pub status: ExpertStatus,
    /// Days the expert cannot sit (不可用日期).
    #[serde(default)]
    #[ts(type = "Array<string>")]
    pub unavailable: Vec<NaiveDate>,
}

/// The columns of a roster, in the CSV header's order: (English, Chinese).
pub const COLUMNS: [(&str, &str); 10] = [
    ("id", "编号"),
    ("name", "姓名"),
    ("id_number", "身份证号"),
    ("phone", "手机"),
    ("email", "邮箱"),
    ("specialties", "专业"),
    ("employer", "工作单位"),
    ("region", "地区"),
    ("status", "状态"),
    ("unavailable", "不可用日期"),
];

/// The field (by its English column name) a row is refused for, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

/// Items separated by `;` (or the Chinese `；`, or `、`), blanks dropped.
pub fn split_list(text: &str) -> Vec<String> {
    text.split([';', '；', '、'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Expert {
    /// An expert from a roster's cells (by English column name), or the
    /// first field at fault.
    pub fn from_cells(cell: impl Fn(&str) -> String) -> Result<Expert, FieldError> {
        let required = |field: &'static str| {
            let v = cell(field).trim().to_owned();
            if v.is_empty() {
                Err(refuse(field, "不能为空"))
            } else {
                Ok(v)
            }
        };
        let optional = |field: &str| Some(cell(field).trim().to_owned()).filter(|v| !v.is_empty());
        let status_text = cell("status");
        let status = if status_text.trim().is_empty() {
            ExpertStatus::Active
        } else {
            ExpertStatus::read(&status_text).ok_or_else(|| {
                refuse(
                    "status",
                    format!(
                        "`{}` 无效：须为 active（在库）或 suspended（暂停）",
                        status_text.trim()
                    ),
                )
            })?
        };
        let mut unavailable = Vec::new();
        for day in split_list(&cell("unavailable")) {
            let date = NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|_| {
                refuse("unavailable", format!("`{day}` 不是 YYYY-MM-DD 格式的日期"))
            })?;
            unavailable.push(date);
        }
        unavailable.sort();
        unavailable.dedup();
        let expert = Expert {
            id: required("id")?,
            name: required("name")?,
            id_number: required("id_number")?.to_ascii_uppercase(),
            phone: optional("phone"),
            email: optional("email"),
            specialties: split_list(&cell("specialties")),
            employer: required("employer")?,
            region: cell("region").trim().to_owned(),
            status,
            unavailable,
        };
        expert.check()?;
        Ok(expert)
    }

    /// The rules every expert of the pool keeps.
    pub fn check(&self) -> Result<(), FieldError> {
        for (field, value) in [
            ("id", &self.id),
            ("name", &self.name),
            ("employer", &self.employer),
        ] {
            if value.trim().is_empty() {
                return Err(refuse(field, "不能为空"));
            }
        }
        if self.id.chars().count() > 64 {
            return Err(refuse("id", "过长（最多 64 个字符）"));
        }
        if !valid_id_number(&self.id_number) {
            return Err(refuse(
                "id_number",
                format!(
                    "`{}` 不是有效的 18 位居民身份证号码（校验位不符或格式有误）",
                    mask_id_number(&self.id_number)
                ),
            ));
        }
        if let Some(p) = &self.phone {
            if !valid_phone(p) {
                return Err(refuse("phone", format!("`{p}` 不是有效的电话号码")));
            }
        }
        if let Some(e) = &self.email {
            if !valid_email(e) {
                return Err(refuse("email", format!("`{e}` 不是有效的电子邮箱")));
            }
        }
        if self.phone.is_none() && self.email.is_none() {
            return Err(refuse(
                "phone",
                "缺少联系方式：手机与邮箱至少填一项，否则抽中后无法通知",
            ));
        }
        if self.specialties.is_empty() {
            return Err(refuse(
                "specialties",
                "不能为空：至少一个专业代码，多个用 ; 分隔",
            ));
        }
        Ok(())
    }

    /// The expert as anyone but the supervisor sees them in lists: the ID
    /// number masked.
    pub fn masked(mut self) -> Expert {
        self.id_number = mask_id_number(&self.id_number);
        self
    }
}

/// The check character (ISO 7064 MOD 11-2) that completes the 17 digits of a
/// resident ID (GB 11643-1999); `None` when they are not 17 digits.
pub fn check_character(digits: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let b = digits.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(b"10X98765432"[(sum % 11) as usize] as char)
}

/// An 18-digit resident ID (GB 11643-1999): 17 digits, then their check
/// character, with a birth date that exists.
pub fn valid_id_number(id: &str) -> bool {
    let (Some(digits), Some(last)) = (id.get(..17), id.get(17..)) else {
        return false;
    };
    let birth = NaiveDate::parse_from_str(&digits[6..14], "%Y%m%d").is_ok();
    birth
        && check_character(digits)
            .is_some_and(|c| last.len() == 1 && last.eq_ignore_ascii_case(&c.to_string()))
}

/// The ID number as lists, exports and logs show it: the first six and last
/// four characters, the birth date hidden (`330102********1234`).
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let (head, tail) = (&chars[..6], &chars[chars.len() - 4..]);
    format!(
        "{}{}{}",
        head.iter().collect::<String>(),
        "*".repeat(chars.len() - 10),
        tail.iter().collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid ID for these 17 digits.
    fn id_number(digits: &str) -> String {
        format!("{digits}{}", check_character(digits).unwrap())
    }

    #[test]
    fn id_numbers_are_checked_by_their_check_character_and_birth_date() {
        // The example of GB 11643-1999.
        assert!(valid_id_number("11010519491231002X"));
        assert!(valid_id_number("11010519491231002x"));
        assert!(
            !valid_id_number("110105194912310021"),
            "wrong check character"
        );
        assert!(!valid_id_number(&id_number("11010519490231002")[..17]));
        assert!(
            !valid_id_number(&id_number("11010519490231002")),
            "February 31st"
        );
        assert!(valid_id_number(&id_number("33010219900101123")));
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
    }

    #[test]
    fn a_row_is_refused_by_its_field() {
        let good = [
            ("id", "E001"),
            ("name", "周建国"),
            ("id_number", "11010519491231002X"),
            ("phone", "13958610001"),
            ("specialties", "A01; A02"),
            ("employer", "浙江大学"),
            ("status", "在库"),
            ("unavailable", "2026-12-24；2026-12-25"),
        ];
        let row = |over: &[(&str, &str)]| {
            let cells: Vec<(String, String)> = good
                .iter()
                .map(|(k, v)| {
                    let v = over.iter().find(|(o, _)| o == k).map_or(*v, |(_, v)| *v);
                    (k.to_string(), v.to_string())
                })
                .collect();
            Expert::from_cells(|f| {
                cells
                    .iter()
                    .find(|(k, _)| k == f)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            })
        };
        let e = row(&[]).unwrap();
        assert_eq!(e.specialties, ["A01", "A02"]);
        assert_eq!(e.unavailable.len(), 2);
        assert_eq!(e.status, ExpertStatus::Active);
        for (field, value, says) in [
            ("id_number", "110105194912310021", "身份证号"),
            ("phone", "abc", "电话"),
            ("status", "retired", "active"),
            ("unavailable", "2026/12/24", "YYYY-MM-DD"),
            ("specialties", " ; ", "专业"),
            ("name", " ", "不能为空"),
        ] {
            let err = row(&[(field, value)]).unwrap_err();
            assert_eq!(err.field, field, "{err:?}");
            assert!(err.message.contains(says), "{err:?}");
        }
        assert_eq!(row(&[("phone", "")]).unwrap_err().field, "phone");
    }
}
