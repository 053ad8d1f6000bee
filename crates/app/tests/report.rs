//! 统计 and 自评报告 (5.2a) over June 2026, away from the demo's own
//! autumn: a project registered, three complaints (decided, refused, open),
//! two survey answers, an improvement item. Every figure of the report is
//! held to what the test counts itself from the raw rows or works out by
//! hand; the PDF says them (pdftotext), the workbook holds them (calamine).

mod common;
use common::*;
use ggzy_core::error::ErrorCode;
use ggzy_store::demo::DEMO_PASSWORD;

fn lines() -> Vec<String> {
    let complaint = |id: &str, day: &str| {
        format!(
            r#"{{"id":"l-{id}","type":"complaint.lodged","at":"2026-06-{day}T09:00:00+08:00","complaint":{{"id":"{id}","channel":"online","complainant":{{"id":"c-{id}","name":"林先生","phone":"13900000009"}},"subject":"短信未收到"}}}}"#
        )
    };
    let survey = |id: &str, s: [u8; 6]| {
        format!(
            r#"{{"id":"{id}","type":"survey.answered","at":"2026-06-20T10:00:00+08:00","respondent":{{"id":"R","name":"某单位"}},"scores":{{"timeliness":{},"completeness":{},"accuracy":{},"access":{},"courtesy":{},"complaint_handling":{}}}}}"#,
            s[0], s[1], s[2], s[3], s[4], s[5]
        )
    };
    vec![
        r#"{"id":"p-0601","type":"project.registered","at":"2026-06-02T09:00:00+08:00","project":"LH-2026-0601","name":"临海市六月工程","tenderer":{"id":"T1","name":"临海市某局","phone":"0576-85000001"},"agency":{"id":"A1","name":"某代理公司","phone":"13800000001"}}"#.to_owned(),
        complaint("J-1", "03"),
        complaint("J-2", "04"),
        complaint("J-3", "05"),
        r#"{"id":"r-J-1","type":"complaint.resolved","at":"2026-06-09T09:00:00+08:00","complaint_id":"J-1","result":"已补发"}"#.to_owned(),
        r#"{"id":"f-J-2","type":"complaint.refused","at":"2026-06-05T09:00:00+08:00","complaint_id":"J-2","reason":"重复投诉"}"#.to_owned(),
        survey("s-1", [5, 4, 3, 2, 5, 4]),
        survey("s-2", [3, 4, 5, 4, 5, 5]),
    ]
}

#[tokio::test]
async fn every_figure_of_the_report_is_the_datas() {
    let (app, dir) = demo_app().await;
    let summary = app
        .store()
        .import(lines().join("\n").as_bytes(), "test", |_| {})
        .await
        .unwrap();
    assert_eq!(summary.accepted, 8, "{:?}", summary.refused);

    // Center staff see the statistics, not the report; the supervisory department neither.
    app.login("zhangwei", DEMO_PASSWORD).await.unwrap();
    let stats = app.statistics("2026-06-01", "2026-06-30").await.unwrap();
    assert_eq!(
        app.self_evaluation("2026-06-01", "2026-06-30")
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    app.login("wangfang", DEMO_PASSWORD).await.unwrap();
    assert_eq!(
        app.statistics("2026-06-01", "2026-06-30")
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );

    // Counted here from the raw rows: June's events and their pushes.
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT e.body, (SELECT group_concat(p.clause, ',') FROM pushes p WHERE p.event = e.no) FROM events e",
    )
    .fetch_all(app.store().pool())
    .await
    .unwrap();
    let june: Vec<(serde_json::Value, Vec<String>)> = rows
        .into_iter()
        .map(|(b, c)| {
            let v: serde_json::Value = serde_json::from_str(&b).unwrap();
            let clauses = c
                .map(|c| c.split(',').map(str::to_owned).collect())
                .unwrap_or_default();
            (v, clauses)
        })
        .filter(|(v, _)| v["at"].as_str().unwrap().starts_with("2026-06-"))
        .collect();
    assert_eq!(june.len(), 8);
    let pushes: usize = june.iter().map(|(_, c)| c.len()).sum();
    let of_clause = |k: &str| june.iter().flat_map(|(_, c)| c).filter(|c| *c == k).count() as f64;

    // The statistics: pushes by clause, complaints by channel and state,
    // satisfaction by month: (5+3)/2 = 4, (4+4)/2 = 4, (3+5)/2 = 4,
    // (2+4)/2 = 3, (5+5)/2 = 5, (4+5)/2 = 4.5.
    let t = |key: &str| stats.tables.iter().find(|t| t.key == key).unwrap();
    let clause_4_2 = t("pushes_by_clause")
        .rows
        .iter()
        .find(|r| r.label == "4.2")
        .unwrap();
    assert_eq!(clause_4_2.values[0], of_clause("4.2"));
    assert!(of_clause("4.2") >= 2.0, "tenderer and agency");
    let online = t("complaints")
        .rows
        .iter()
        .find(|r| r.label == "网上")
        .unwrap();
    // Columns: 待受理, 已受理, 调查中, 不予受理, 已处理.
    assert_eq!(online.values, [1.0, 0.0, 0.0, 1.0, 1.0]);
    let june_scores = &t("satisfaction").rows[0];
    assert_eq!(june_scores.label, "2026-06");
    assert_eq!(june_scores.values, [2.0, 4.0, 4.0, 4.0, 3.0, 5.0, 4.5]);

    // The report, as the supervisor generates it.
    app.login("chenjing", DEMO_PASSWORD).await.unwrap();
    let r = app
        .self_evaluation("2026-06-01", "2026-06-30")
        .await
        .unwrap();
    assert_eq!(r.fact("事件（件）"), Some(8.0));
    assert_eq!(r.fact("推送（条）"), Some(pushes as f64));
    assert_eq!(r.fact("投诉（件）"), Some(3.0));
    assert_eq!(r.fact("已处理并反馈（件）"), Some(1.0));
    assert_eq!(r.fact("不予受理（件）"), Some(1.0));
    assert_eq!(r.fact("未办结（件）"), Some(1.0));
    // J-1: lodged Wednesday 3 June, decided Tuesday 9 June: 4, 5, 8, 9 June;
    // J-2 refused the next day: 1. (4 + 1) / 2 = 2.5.
    assert_eq!(r.fact("办结平均用时（工作日）"), Some(2.5));
    assert_eq!(r.fact("满意度调查（份）"), Some(2.0));
    assert_eq!(r.fact("含不满意评价（份）"), Some(1.0));
    assert_eq!(r.fact("应推送而无推送的事件（件）"), Some(0.0));
    let coverage = r.table("coverage").unwrap();
    let fired = coverage
        .rows
        .iter()
        .filter(|row| row.values[0] > 0.0)
        .count() as f64;
    assert_eq!(r.fact("期间内有推送的条款（条）"), Some(fired));
    assert_eq!(
        coverage
            .rows
            .iter()
            .find(|row| row.label.starts_with("4.2 "))
            .unwrap()
            .values[0],
        of_clause("4.2")
    );

    // The PDF says them.
    let pdf = app
        .self_evaluation_pdf("2026-06-01", "2026-06-30")
        .await
        .unwrap();
    let file = dir.path().join("report.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let text = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("临海市公共资源交易中心信息推送服务自评报告"),
        "{text}"
    );
    assert!(text.contains("2026-06-01 至 2026-06-30"), "{text}");
    let line = |label: &str| {
        text.lines()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("no line `{label}` in\n{text}"))
            .to_owned()
    };
    assert!(
        line("推送（条）").trim_end().ends_with(&pushes.to_string()),
        "{}",
        line("推送（条）")
    );
    assert!(
        line("办结平均用时").trim_end().ends_with("2.50"),
        "{}",
        line("办结平均用时")
    );

    // The workbook holds them.
    use calamine::{Reader, Xlsx};
    let bytes = app
        .self_evaluation_xlsx("2026-06-01", "2026-06-30")
        .await
        .unwrap();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let first = book.sheet_names()[0].clone();
    let sheet = book.worksheet_range(&first).unwrap();
    let value = |label: &str| {
        sheet
            .rows()
            .find(|row| row[0] == label)
            .and_then(|row| row[1].to_string().parse::<f64>().ok())
    };
    assert_eq!(value("推送（条）"), Some(pushes as f64));
    assert_eq!(value("投诉（件）"), Some(3.0));
    assert!(book.sheet_names().len() > 10, "one sheet per table");
}
