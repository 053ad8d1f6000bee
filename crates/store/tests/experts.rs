//! The expert pool from a real roster file: CSV (UTF-8 with English
//! columns, GB18030 with Chinese ones, as Excel saves it) and a real .xlsx
//! workbook; refused rows named by line and column with nothing taken;
//! re-import by id; search; every row held to the audit trail.

mod common;
use common::*;
use ggzy_core::experts::check_character;
use ggzy_core::experts::ExpertStatus;
use ggzy_store::experts::ExpertQuery;

/// A valid 18-digit ID for this 17-digit prefix.
fn id_number(prefix: &str) -> String {
    format!("{prefix}{}", check_character(prefix).unwrap())
}

fn csv_rows(n: usize) -> String {
    let mut s = String::from(
        "id,name,id_number,phone,email,specialties,employer,region,status,unavailable\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "E{i:03},专家{i},{},1395861{i:04},,A01;A0{},单位{},台州,active,2026-12-24\n",
            id_number(&format!("33010219800101{i:03}")),
            1 + i % 3,
            i % 4
        ));
    }
    s
}

async fn all(d: &Db) -> Vec<ggzy_core::experts::Expert> {
    d.store.expert_pool().await.unwrap()
}

#[tokio::test]
async fn a_csv_roster_is_taken_whole_and_updated_by_id() {
    let d = staffed().await;
    let r = d
        .store
        .import_experts(csv_rows(20).as_bytes(), "roster.csv", "admin")
        .await
        .unwrap();
    assert_eq!(
        (r.rows, r.added, r.updated, r.unchanged),
        (20, 20, 0, 0),
        "{r:?}"
    );
    let e = d.store.expert("E007").await.unwrap();
    assert_eq!(e.specialties, ["A01", "A02"]);
    assert_eq!(e.unavailable[0].to_string(), "2026-12-24");

    // The same file again, one row changed: only that row is written.
    let again = csv_rows(20).replace("专家7,", "专家七,");
    let r = d
        .store
        .import_experts(again.as_bytes(), "roster.csv", "admin")
        .await
        .unwrap();
    assert_eq!((r.added, r.updated, r.unchanged), (0, 1, 19), "{r:?}");
    assert_eq!(d.store.expert("E007").await.unwrap().name, "专家七");
    assert_eq!(d.store.verify_audit(|_, _| {}).await.unwrap().broken, None);

    let page = d
        .store
        .experts(&ExpertQuery {
            specialty: Some("A03".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 6, "every third holds A03");
    let page = d
        .store
        .experts(&ExpertQuery {
            text: Some("专家七".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["E007"]
    );
}

#[tokio::test]
async fn refused_rows_are_named_by_line_and_column_and_nothing_is_taken() {
    let d = staffed().await;
    let mut text = csv_rows(5);
    // Line 4 (E002): a wrong ID number; line 6 (E004): an unknown status.
    let good = id_number("33010219800101002");
    let wrong = format!(
        "{}{}",
        &good[..17],
        if good.ends_with('0') { '1' } else { '0' }
    );
    text = text.replace(&good, &wrong);
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut fixed = lines.clone();
    fixed[5] = lines[5].replace(",active,", ",退休,");
    fixed.push(lines[1].clone()); // E000 again, line 7
    let text = fixed.join("\n");
    let r = d
        .store
        .import_experts(text.as_bytes(), "bad.csv", "admin")
        .await
        .unwrap();
    let got: Vec<(usize, &str)> = r
        .refused
        .iter()
        .map(|x| (x.line, x.column.as_str()))
        .collect();
    assert_eq!(
        got,
        [(4, "id_number"), (6, "status"), (7, "id")],
        "{:?}",
        r.refused
    );
    assert!(
        r.refused[2].message.contains("第 2 行"),
        "{}",
        r.refused[2].message
    );
    assert!(all(&d).await.is_empty(), "nothing of the file is taken");

    let err = d
        .store
        .import_experts(
            "编号,姓名,职称\nE1,张三,高工\n".as_bytes(),
            "x.csv",
            "admin",
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("职称"), "{err}");
}

#[tokio::test]
async fn a_gbk_csv_with_chinese_columns_and_an_xlsx_workbook_are_read() {
    let d = staffed().await;
    let text = format!(
        "编号,姓名,身份证号,手机,邮箱,专业,工作单位,地区,状态,不可用日期\r\nG001,王建华,{},13958610001,,B01、B02,台州学院,台州,暂停,\r\n",
        id_number("33100219750505123")
    );
    let (gbk, _, _) = encoding_rs::GB18030.encode(&text);
    let r = d
        .store
        .import_experts(&gbk, "名册.csv", "admin")
        .await
        .unwrap();
    assert_eq!(r.added, 1, "{r:?}");
    let e = d.store.expert("G001").await.unwrap();
    assert_eq!(
        (e.name.as_str(), e.status),
        ("王建华", ExpertStatus::Suspended)
    );
    assert_eq!(e.specialties, ["B01", "B02"]);

    // A workbook as Excel writes it: the phone typed as a number, a date cell.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in [
        "编号",
        "姓名",
        "身份证号",
        "手机",
        "专业",
        "工作单位",
        "不可用日期",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "X001").unwrap();
    sheet.write_string(1, 1, "李海燕").unwrap();
    sheet
        .write_string(1, 2, id_number("33010219820304567"))
        .unwrap();
    sheet.write_number(1, 3, 13958610002.0).unwrap();
    sheet.write_string(1, 4, "A01").unwrap();
    sheet.write_string(1, 5, "浙江大学").unwrap();
    let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 12, 31).unwrap();
    let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    sheet
        .write_datetime_with_format(1, 6, &day, &format)
        .unwrap();
    sheet.write_string(2, 0, "X002").unwrap();
    sheet.write_string(2, 1, "缺专业").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let r = d
        .store
        .import_experts(&bytes, "名册.xlsx", "admin")
        .await
        .unwrap();
    let got: Vec<(usize, &str)> = r
        .refused
        .iter()
        .map(|x| (x.line, x.column.as_str()))
        .collect();
    assert_eq!(
        got,
        [(3, "身份证号")],
        "row 3 of the sheet: {:?}",
        r.refused
    );

    sheet_without_bad_row(&d).await;
}

async fn sheet_without_bad_row(d: &Db) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in [
        "id",
        "name",
        "id_number",
        "phone",
        "specialties",
        "employer",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in ["X001", "李海燕", &id_number("33010219820304567")]
        .iter()
        .enumerate()
    {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    sheet.write_number(1, 3, 13958610002.0).unwrap();
    sheet.write_string(1, 4, "A01").unwrap();
    sheet.write_string(1, 5, "浙江大学").unwrap();
    let r = d
        .store
        .import_experts(&book.save_to_buffer().unwrap(), "x.xlsx", "admin")
        .await
        .unwrap();
    assert_eq!(r.added, 1, "{r:?}");
    assert_eq!(
        d.store.expert("X001").await.unwrap().phone.as_deref(),
        Some("13958610002")
    );
}

#[tokio::test]
async fn an_expert_changed_or_added_by_hand_is_named_by_verify() {
    let d = staffed().await;
    d.store
        .import_experts(csv_rows(3).as_bytes(), "r.csv", "admin")
        .await
        .unwrap();
    sqlx::query("UPDATE experts SET employer = '投标人甲' WHERE id = 'E001'")
        .execute(d.store.pool())
        .await
        .unwrap();
    let v = d.store.verify_audit(|_, _| {}).await.unwrap();
    let why = v.broken.expect("the changed row is found").message;
    assert!(why.contains("experts") && why.contains("E001"), "{why}");
}
